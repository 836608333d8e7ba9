/**
 * The status line and headers of an egress worker's answers, byte for byte what Node's http server
 * writes for the fast path's `writeHead(status, flatHeaders)` on a keep-alive HTTP/1.1 request:
 * the headers as given, then `Date`, `Connection: keep-alive` and `Keep-Alive: timeout=<s>`. Each
 * body's head is built once per Cache-Control and second, and shared.
 */
import { STATUS_CODES } from 'node:http';

/** Node's `Date` header: the time's UTC string, renewed at each second (as its utcDate() does). */
let date: string | undefined;
function utcDate(): string {
  if (date === undefined) {
    const now = new Date();
    date = now.toUTCString();
    setTimeout(() => (date = undefined), 1000 - now.getMilliseconds()).unref();
  }
  return date;
}

interface Cached {
  readonly prefix: string;
  date: string;
  head: Buffer;
}

export class Heads {
  readonly #base: string;
  readonly #tail: string;
  /** By body (one Buffer per playlist version or part), then by Cache-Control. */
  readonly #byBody = new WeakMap<Buffer, Map<string, Cached>>();

  constructor(baseHeaders: readonly string[], keepAliveTimeoutMs: number) {
    let base = '';
    for (let i = 0; i < baseHeaders.length; i += 2) base += `${baseHeaders[i]}: ${baseHeaders[i + 1]}\r\n`;
    this.#base = base;
    const keepAlive =
      keepAliveTimeoutMs > 0 ? `Keep-Alive: timeout=${Math.floor(keepAliveTimeoutMs / 1000)}\r\n` : '';
    this.#tail = `Connection: keep-alive\r\n${keepAlive}\r\n`;
  }

  /** The head of a 200 answer with `body`. */
  ok(body: Buffer, contentType: string, cacheControl: string): Buffer {
    let byCacheControl = this.#byBody.get(body);
    if (!byCacheControl) this.#byBody.set(body, (byCacheControl = new Map()));
    const now = utcDate();
    let cached = byCacheControl.get(cacheControl);
    if (!cached) {
      const prefix = this.#prefix(200, cacheControl, contentType, body.length);
      cached = { prefix, date: now, head: this.#head(prefix, now) };
      byCacheControl.set(cacheControl, cached);
    } else if (cached.date !== now) {
      cached.date = now;
      cached.head = this.#head(cached.prefix, now);
    }
    return cached.head;
  }

  /** The head of any other answer (rare: errors after a hold), built each time. */
  other(status: number, cacheControl: string, contentType: string, length: number): Buffer {
    return this.#head(this.#prefix(status, cacheControl, contentType, length), utcDate());
  }

  #prefix(status: number, cacheControl: string, contentType: string, length: number): string {
    return (
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${this.#base}` +
      `cache-control: ${cacheControl}\r\ncontent-type: ${contentType}\r\ncontent-length: ${length}\r\n`
    );
  }

  #head(prefix: string, now: string): Buffer {
    return Buffer.from(`${prefix}Date: ${now}\r\n${this.#tail}`, 'latin1');
  }
}
