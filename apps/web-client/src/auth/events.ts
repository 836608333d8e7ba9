/**
 * An event stream that carries the token. Without one: the browser's EventSource, as always. With
 * one: the same events read over fetch with the Authorization header (EventSource cannot send
 * headers), behaving as EventSource does for the hooks: `open`, named events, `error` with
 * readyState CONNECTING while it reconnects by itself, CLOSED when the answer is not an event stream
 * (the hooks reopen it later), and a 401 raises the session's alarm.
 */
import { SseParser } from '../logic/sse';
import { authHeaders, currentToken, reportUnauthorized } from './session';

/** What the hooks use of EventSource. */
export interface EventStream {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: Event) => void): void;
  close(): void;
}

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSED = 2;

/** EventSource's own default before it reconnects. */
const DEFAULT_RETRY_MS = 3_000;

class FetchEventStream extends EventTarget implements EventStream {
  readyState = CONNECTING;
  private readonly abort = new AbortController();
  private parser = new SseParser();
  /** The server's `retry:`, kept across reconnects. */
  private retryMs = DEFAULT_RETRY_MS;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {
    super();
    void this.connect();
  }

  close(): void {
    this.readyState = CLOSED;
    clearTimeout(this.timer);
    this.abort.abort();
  }

  private async connect(): Promise<void> {
    this.parser = new SseParser(); // a partial event from the last connection is dropped
    let response: Response;
    try {
      response = await fetch(this.url, {
        headers: { accept: 'text/event-stream', ...authHeaders(this.token) },
        cache: 'no-store',
        signal: this.abort.signal,
      });
    } catch {
      return this.lost();
    }
    const type = response.headers.get('content-type') ?? '';
    if (!response.ok || !type.startsWith('text/event-stream') || !response.body) {
      if (response.status === 401) reportUnauthorized();
      void response.body?.cancel().catch(() => undefined);
      if (this.readyState === CLOSED) return;
      this.readyState = CLOSED;
      this.dispatchEvent(new Event('error'));
      return;
    }
    if (this.readyState === CLOSED) return;
    this.readyState = OPEN;
    this.dispatchEvent(new Event('open'));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const event of this.parser.push(value)) {
          if (this.readyState === CLOSED) return;
          this.dispatchEvent(
            new MessageEvent(event.type, { data: event.data, lastEventId: event.lastEventId }),
          );
        }
      }
    } catch {
      // the connection broke: reconnect below
    }
    this.retryMs = this.parser.retryMs ?? this.retryMs;
    this.lost();
  }

  /** The stream ended or never came: reconnect after the server's `retry:` (as EventSource does). */
  private lost(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CONNECTING;
    this.dispatchEvent(new Event('error'));
    if (this.readyState === CLOSED) return; // closed by an error listener
    this.timer = setTimeout(() => void this.connect(), this.retryMs);
  }
}

/** Opens `url`'s event stream, with the session's token when there is one. */
export function openEvents(url: string): EventStream {
  const token = currentToken();
  return token === null ? new EventSource(url) : new FetchEventStream(url, token);
}
