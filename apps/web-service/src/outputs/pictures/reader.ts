/**
 * One HTTP reader of a live picture stream (MJPEG or MPEG-TS), written to directly (the route hijacks
 * the reply). It tells a reader that keeps up from one that does not: `busy` while what was written
 * has not all gone to the kernel, `stalled` once nothing has gone for `stallMs` while some waits.
 * A stalled reader is dropped by its owner; nothing is held for it but Node's own socket buffer,
 * which its owner bounds (a busy MJPEG reader is skipped, a stream.ts one dropped past a limit).
 */
import type { ServerResponse } from 'node:http';

export class HttpReader {
  readonly res: ServerResponse;
  readonly #stallMs: number;
  readonly #now: () => number;
  #written = 0;
  #delivered = 0;
  #lastProgress: number;
  #ended = false;

  constructor(res: ServerResponse, { stallMs, now = Date.now }: { stallMs: number; now?: () => number }) {
    this.res = res;
    this.#stallMs = stallMs;
    this.#now = now;
    this.#lastProgress = now();
  }

  /** Bytes written but not yet taken by the kernel. */
  get backlog(): number {
    return this.res.writableLength;
  }

  get busy(): boolean {
    return this.backlog > 0;
  }

  get ended(): boolean {
    return this.#ended || this.res.destroyed || this.res.writableEnded;
  }

  /** Nothing left us for `stallMs` though something waits. */
  get stalled(): boolean {
    this.#progress();
    return this.busy && this.#now() - this.#lastProgress > this.#stallMs;
  }

  write(chunk: Buffer | string): void {
    if (this.ended) return;
    this.#progress();
    this.#written += chunk.length;
    this.res.write(chunk);
  }

  /** Ends the response cleanly (the last chunk, then the connection may be reused or closed). */
  end(last?: string): void {
    if (this.ended) return;
    this.#ended = true;
    this.res.end(last);
  }

  /** Drops the reader: the connection is closed, whatever it still had to read. */
  drop(): void {
    this.#ended = true;
    this.res.destroy();
  }

  #progress(): void {
    const delivered = this.#written - this.backlog;
    if (delivered > this.#delivered || this.backlog === 0) this.#lastProgress = this.#now();
    this.#delivered = delivered;
  }
}
