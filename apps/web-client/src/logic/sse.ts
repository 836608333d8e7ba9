/**
 * A server-sent events parser (the WHATWG "event stream interpretation"), for reading an event
 * stream over fetch when a header must go with it (EventSource cannot send one). Pure: text in,
 * events out; feed it the decoded chunks as they come.
 */

export interface SseEvent {
  /** `event:` field, 'message' when absent. */
  type: string;
  data: string;
  /** The last `id:` seen, '' when none. */
  lastEventId: string;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private type = '';
  private lastEventId = '';
  private afterCr = false;
  /** The server's `retry:` in milliseconds, when it sent one. */
  retryMs: number | null = null;

  /** Events completed by `chunk` (a blank line ends one). */
  push(chunk: string): SseEvent[] {
    // A CR ended the last chunk: an LF opening this one is the rest of that CRLF.
    this.buffer += this.afterCr && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    this.afterCr = false;
    const events: SseEvent[] = [];
    for (;;) {
      const end = this.buffer.search(/[\r\n]/);
      if (end === -1) break;
      const line = this.buffer.slice(0, end);
      const crlf = this.buffer.startsWith('\r\n', end);
      if (this.buffer[end] === '\r' && end === this.buffer.length - 1) this.afterCr = true;
      this.buffer = this.buffer.slice(end + (crlf ? 2 : 1));
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      const { data, type } = this;
      this.data = [];
      this.type = '';
      if (data.length === 0) return null;
      return { type: type || 'message', data: data.join('\n'), lastEventId: this.lastEventId };
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return null;
  }
}
