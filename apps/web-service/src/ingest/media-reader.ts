/**
 * The camera's media, parsed once: the remuxer's fMP4 bytes (stdout) in; `begin` at once (the run is
 * spawned), then `init` and one `frame` per moof + mdat out, to the camera's fan-out. One reader per run; a closed reader ignores what a
 * stopping remuxer still writes, so a run's late frames never reach the next run's outputs.
 */
import type { MediaSink } from '../outputs/fanout.js';
import { Fmp4Reader } from './fmp4.js';

export class MediaReader {
  readonly streamId: string;
  readonly #reader: Fmp4Reader;
  #closed = false;

  constructor({ streamId, restart, sink }: { streamId: string; restart: boolean; sink: MediaSink }) {
    this.streamId = streamId;
    sink.begin({ streamId, restart });
    this.#reader = new Fmp4Reader({
      onInit: (init) => {
        if (!this.#closed) sink.init({ ...init, streamId, restart });
      },
      onFragment: (fragment) => {
        if (!this.#closed) sink.frame(fragment);
      },
    });
  }

  /** Bytes from the remuxer, as they come. Throws Fmp4FormatError on bytes that are not fMP4. */
  push(chunk: Buffer): void {
    if (!this.#closed) this.#reader.push(chunk);
  }

  close(): void {
    this.#closed = true;
  }
}
