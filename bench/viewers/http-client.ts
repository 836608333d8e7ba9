/**
 * The load generator's HTTP/1.1 client: one keep-alive TCP connection (node:net), one request at a
 * time on it (no pipelining, as a browser's connection), reconnecting when the server closed it. It
 * reads only what a viewer needs: the status, Content-Length (or a chunked body) and the body, kept
 * only when asked for (playlists; parts are counted). node:http's client cost the generator some
 * 100 µs a request, and at a thousand viewers the generator, not the service, was the bottleneck.
 */
import { connect, type Socket } from 'node:net';

/** A request longer than this failed (the service holds a blocking request three target durations at most). */
export const REQUEST_TIMEOUT_MS = 10_000;

export class HttpError extends Error {
  constructor(readonly kind: string) {
    super(kind);
  }
}

export interface Answer {
  /** The body, when asked for with `keepBody`. */
  readonly body: Buffer | undefined;
  /** Body bytes received. */
  readonly length: number;
}

interface Pending {
  readonly head: string;
  readonly keepBody: boolean;
  readonly resolve: (answer: Answer) => void;
  readonly reject: (err: HttpError) => void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const NO_BODY: Answer = { body: undefined, length: 0 };

export class HttpConnection {
  readonly #host: string;
  readonly #port: number;
  readonly #hostHeader: string;
  #socket: Socket | undefined;
  #connected = false;
  readonly #queue: Pending[] = [];
  #current: Pending | undefined;
  // The answer being read.
  #head: Buffer | undefined;
  #status = 0;
  #remaining = -1;
  #chunked = false;
  #close = false;
  #chunks: Buffer[] = [];
  #length = 0;
  #closed = false;

  constructor(origin: URL) {
    this.#host = origin.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(origin.port || 80);
    this.#hostHeader = origin.host;
  }

  /** GET `path` (with its query); resolves on a 200, rejects with an HttpError otherwise. */
  get(path: string, keepBody: boolean): Promise<Answer> {
    if (this.#closed) return Promise.reject(new HttpError('closed'));
    return new Promise((resolve, reject) => {
      const head = `GET ${path} HTTP/1.1\r\nHost: ${this.#hostHeader}\r\nAccept: */*\r\n\r\n`;
      this.#queue.push({ head, keepBody, resolve, reject });
      if (this.#current === undefined) this.#next();
    });
  }

  /** Ends the connection; requests waiting fail with `closed`. */
  close(): void {
    this.#closed = true;
    this.#fail(new HttpError('closed'));
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #next(): void {
    const pending = this.#queue.shift();
    this.#current = pending;
    if (!pending) return;
    this.#resetAnswer();
    const socket = this.#socket ?? this.#open();
    if (this.#connected) socket.write(pending.head);
  }

  #open(): Socket {
    const socket = connect({ host: this.#host, port: this.#port });
    this.#socket = socket;
    this.#connected = false;
    socket.setNoDelay(true);
    socket.setTimeout(REQUEST_TIMEOUT_MS);
    socket.on('connect', () => {
      this.#connected = true;
      if (this.#current) socket.write(this.#current.head);
    });
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('timeout', () => {
      // Idle between requests is fine; a request unanswered this long failed.
      if (this.#current) this.#drop(socket, new HttpError('timeout'));
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.#drop(socket, new HttpError(err.code ?? err.name)),
    );
    socket.on('close', () => this.#drop(socket, new HttpError('connection closed')));
    return socket;
  }

  /** The connection is gone: the request in flight fails, the next one opens a new connection. */
  #drop(socket: Socket, err: HttpError): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    socket.destroy();
    const current = this.#current;
    this.#current = undefined;
    current?.reject(err);
    if (!this.#closed) this.#next();
  }

  #fail(err: HttpError): void {
    const all = this.#current ? [this.#current, ...this.#queue] : [...this.#queue];
    this.#current = undefined;
    this.#queue.length = 0;
    for (const pending of all) pending.reject(err);
  }

  #resetAnswer(): void {
    this.#head = undefined;
    this.#status = 0;
    this.#remaining = -1;
    this.#chunked = false;
    this.#close = false;
    this.#chunks = [];
    this.#length = 0;
  }

  #read(chunk: Buffer): void {
    if (!this.#current) return; // nothing asked: a stray byte, ignored (the server would not send one)
    if (this.#status === 0) {
      const head = this.#head ? Buffer.concat([this.#head, chunk]) : chunk;
      const end = head.indexOf(HEADER_END);
      if (end === -1) {
        this.#head = head;
        return;
      }
      this.#parseHead(head.toString('latin1', 0, end));
      this.#head = undefined;
      chunk = head.subarray(end + 4);
    }
    if (this.#chunked) this.#chunks.push(chunk);
    else {
      const take = Math.min(chunk.length, this.#remaining);
      if (take > 0) {
        if (this.#current.keepBody) this.#chunks.push(chunk.subarray(0, take));
        this.#length += take;
        this.#remaining -= take;
      }
    }
    if (this.#chunked ? this.#chunkedDone() : this.#remaining === 0) this.#finish();
  }

  #parseHead(head: string): void {
    this.#status = Number(head.slice(9, 12)) || -1;
    const lower = head.toLowerCase();
    const length = /\r\ncontent-length: *(\d+)/.exec(lower);
    this.#remaining = length ? Number(length[1]) : 0;
    this.#chunked = !length && /\r\ntransfer-encoding: *chunked/.test(lower);
    this.#close = /\r\nconnection: *close/.test(lower);
  }

  /** A chunked body is complete with its last chunk (no trailers: our servers send none). */
  #chunkedDone(): boolean {
    const body = Buffer.concat(this.#chunks);
    this.#chunks = [body];
    if (body.length < 5 || body.toString('latin1', body.length - 5) !== '0\r\n\r\n') return false;
    const parts: Buffer[] = [];
    for (let at = 0; at < body.length;) {
      const lineEnd = body.indexOf('\r\n', at);
      const size = Number.parseInt(body.toString('latin1', at, lineEnd), 16);
      if (!(size > 0)) break;
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    this.#chunks = parts;
    this.#length = parts.reduce((sum, part) => sum + part.length, 0);
    return true;
  }

  #finish(): void {
    const current = this.#current!;
    const status = this.#status;
    if (status === 200) {
      const body = current.keepBody ? Buffer.concat(this.#chunks, this.#length) : undefined;
      current.resolve(body || this.#length > 0 ? { body, length: this.#length } : NO_BODY);
    } else current.reject(new HttpError(`HTTP ${status}`));
    if (this.#close) {
      const socket = this.#socket;
      this.#socket = undefined;
      socket?.destroy();
    }
    this.#current = undefined;
    this.#next();
  }
}
