/**
 * HTTP/1.1 over a bare TCP socket, for requests no client library would send: the request goes out
 * byte for byte (fetch() and app.inject() resolve `..`, `.` and backslashes, and refuse bad headers).
 */
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export interface RawExchange {
  /** Every byte the server sent. */
  readonly raw: Buffer;
  /** The first response in it, if one could be read. */
  readonly response: RawResponse | undefined;
  /** The server closed the connection (rather than our timeout ending the wait). */
  readonly closed: boolean;
}

/**
 * Sends `request` on a new connection to 127.0.0.1:`port` and collects what comes back until the
 * server closes the connection, or `timeoutMs` passes. With several pieces, each after the first is
 * sent once the server has answered something (a second request on a kept-alive connection).
 */
export function rawExchange(
  port: number,
  request: string | Buffer | readonly (string | Buffer)[],
  { timeoutMs = 5000, endAfterWrite = false } = {},
): Promise<RawExchange> {
  const pieces = (Array.isArray(request) ? request : [request]) as (string | Buffer)[];
  const bytes = (piece: string | Buffer) =>
    typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closed = false;
    let next = 1;
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(bytes(pieces[0]!));
      if (endAfterWrite && pieces.length === 1) socket.end();
    });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (next < pieces.length) socket.write(bytes(pieces[next++]!));
    });
    socket.on('end', () => (closed = true));
    // A reset after the answer (the server destroys the socket once it has written) is a close too.
    socket.on('error', () => (closed = true));
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      resolve({ raw, response: parseResponse(raw), closed });
    });
  });
}

/** `GET <path>` with the path exactly as given (its bytes as latin1: one byte per character). */
export async function rawGet(port: number, path: string, headers = ''): Promise<RawExchange> {
  return rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers}\r\n`);
}

/** The first HTTP response in `raw`: status, headers, and its body (Content-Length or chunked). */
export function parseResponse(raw: Buffer): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1];
  if (status === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['content-length'] !== undefined) {
    body = body.subarray(0, Number(headers['content-length']));
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    body = dechunk(body);
  }
  return { status: Number(status), headers, body };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** The body as JSON, or undefined when it is not JSON. */
export function jsonBody(response: RawResponse | undefined): unknown {
  if (!response) return undefined;
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch {
    return undefined;
  }
}
