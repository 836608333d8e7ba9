/**
 * Does a camera's playlist go on? One watcher per camera asks for the next part with a blocking
 * reload (`_HLS_msn`/`_HLS_part`), as an LL-HLS player does, for as long as the window lasts; each
 * answer must be a 200 that lists a newer part than the one before. The service holds such a request
 * until the part exists (at most 3 target durations), so a stream that stops shows as errors.
 */
import { parseMediaPlaylist, type MediaPlaylist } from '../lib/playlist.js';
import type { PlaylistCheck } from './types.js';

/** No answer to a blocking reload within this time is an error (the service gives up at 3 s). */
const RELOAD_TIMEOUT_MS = 5000;
/** After an error, the next plain reload waits this long. */
const RETRY_MS = 200;
const KEEP_MESSAGES = 5;

type Position = { msn: number; part: number };

/**
 * The newest part listed; with none (a stream's first segment may be shorter than a part, listed
 * whole with no part), the position just before the next segment's first part.
 */
const newest = (playlist: MediaPlaylist): Position | undefined => {
  const part = playlist.parts.at(-1);
  if (part) return { msn: part.msn, part: part.index };
  const segment = playlist.segments.at(-1);
  return segment && { msn: segment.seq + 1, part: -1 };
};
const after = (a: Position, b: Position) => a.msn > b.msn || (a.msn === b.msn && a.part > b.part);

export class PlaylistAdvance {
  readonly #url: string;
  readonly #stop = new AbortController();
  readonly #check: PlaylistCheck;
  readonly #running: Promise<void>;
  #lastAdvanceAt = 0;

  constructor(cameraId: string, url: string) {
    this.#url = url;
    this.#check = { cameraId, advances: 0, errors: 0, longestGapMs: 0, errorMessages: [] };
    this.#running = this.#loop();
  }

  async stop(): Promise<PlaylistCheck> {
    // The gap still open at the end counts too: a stream that stopped for good shows as one.
    const now = performance.now();
    this.#stop.abort();
    await this.#running;
    if (this.#lastAdvanceAt > 0)
      this.#check.longestGapMs = Math.max(this.#check.longestGapMs, now - this.#lastAdvanceAt);
    return this.#check;
  }

  async #loop(): Promise<void> {
    let at: Position | undefined;
    while (!this.#stop.signal.aborted) {
      const wanted = at && { msn: at.msn, part: at.part + 1 };
      const result = await this.#read(wanted);
      if (this.#stop.signal.aborted) return;
      const now = 'error' in result ? undefined : newest(result.playlist);
      const error =
        'error' in result
          ? result.error
          : !now
            ? 'the playlist lists neither a part nor a segment'
            : at && !after(now, at)
              ? `no newer part than ${at.msn}.${at.part}`
              : undefined;
      if (error !== undefined) {
        this.#error(error);
        at = undefined;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        continue;
      }
      if (at) {
        const t = performance.now();
        if (this.#lastAdvanceAt > 0)
          this.#check.longestGapMs = Math.max(this.#check.longestGapMs, t - this.#lastAdvanceAt);
        this.#lastAdvanceAt = t;
        this.#check.advances += 1;
      } else if (this.#lastAdvanceAt === 0) {
        // The first read: the clock for the longest gap starts here.
        this.#lastAdvanceAt = performance.now();
      }
      at = now;
    }
  }

  #error(message: string): void {
    this.#check.errors += 1;
    if (this.#check.errorMessages.length < KEEP_MESSAGES) this.#check.errorMessages.push(message);
  }

  async #read(wanted: Position | undefined): Promise<{ playlist: MediaPlaylist } | { error: string }> {
    const url = new URL(this.#url);
    if (wanted) {
      url.searchParams.set('_HLS_msn', String(wanted.msn));
      url.searchParams.set('_HLS_part', String(wanted.part));
    }
    try {
      const response = await fetch(url, {
        signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(RELOAD_TIMEOUT_MS)]),
      });
      const text = await response.text();
      if (!response.ok) return { error: `${response.status} for ${url.search || 'the playlist'}` };
      return { playlist: parseMediaPlaylist(text) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
}
