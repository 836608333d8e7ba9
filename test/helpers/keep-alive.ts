/**
 * One kept-alive HTTP/1.1 connection, request after request, for tests that must know which
 * connection (and so which process) a request goes on: Node's agents pick sockets themselves.
 */
import { connect, type Socket } from 'node:net';

export interface KeptAnswer {
  readonly status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export class KeptAlive {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  #waiting: ((answer: KeptAnswer) => void) | undefined;
  #failed: ((err: Error) => void) | undefined;
  closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#failed?.(new Error('the server closed the connection'));
    });
  }

  static open(port: number): Promise<KeptAlive> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new KeptAlive(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a request (`head` lines after the request line, without the final blank line). */
  request(method: string, path: string, headers: string[] = [], body = ''): Promise<KeptAnswer> {
    if (this.#waiting) throw new Error('one request at a time');
    const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers];
    if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#failed = reject;
      this.#socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    });
  }

  get(path: string, headers: string[] = []): Promise<KeptAnswer> {
    return this.request('GET', path, headers);
  }

  close(): void {
    this.#socket.destroy();
  }

  #parse(): void {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end === -1 || !this.#waiting) return;
    const lines = this.#buffer.toString('latin1', 0, end).split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const length = Number(headers['content-length'] ?? 0);
    if (this.#buffer.length < end + 4 + length) return;
    const body = this.#buffer.subarray(end + 4, end + 4 + length);
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    const resolve = this.#waiting;
    this.#waiting = this.#failed = undefined;
    resolve({ status, headers, body: Buffer.from(body) });
  }
}
