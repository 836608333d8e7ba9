/**
 * Driving the LL-HLS packager from a test: a packager with the service's defaults, a segmenter run
 * that pushes real fMP4 frame by frame, and a judge for every playlist it would serve meanwhile.
 */
import { expect } from 'vitest';
import { LlHlsPackager, type PackagerOptions } from '../../src/outputs/ll-hls/packager.js';
import { newStreamId } from '../../src/outputs/names.js';
import { judgeLlHlsPlaylist, type MediaPlaylist } from '../../../../test/helpers/ll-hls.js';
import { silentLogger } from './logger.js';

export interface Media {
  readonly whole: Buffer;
  readonly init: Buffer;
  readonly fragments: Buffer[];
}

/**
 * The service's defaults but for `quickStart`: most tests are about the steady stream (1 s segments
 * from msn 0), and the tests of the start say `quickStart: true`.
 */
export function packager(options: Partial<PackagerOptions> = {}): LlHlsPackager {
  return new LlHlsPackager({
    quickStart: false,
    partTarget: 0.2,
    targetDuration: 1,
    listSize: 6,
    logger: silentLogger,
    ...options,
  });
}

/** A run of the segmenter: its stream id, the init segment pushed, then frames on demand. */
export class Run {
  readonly streamId = newStreamId();
  #next = 0;
  constructor(
    readonly packager: LlHlsPackager,
    readonly media: Media,
    { discontinuity = false } = {},
  ) {
    packager.beginRun(this.streamId, { discontinuity });
    packager.push(this.streamId, media.init);
  }

  get framesPushed(): number {
    return this.#next;
  }

  /** Pushes `count` frames (one fMP4 fragment each); `after` runs after each one. */
  frames(count: number, after?: () => void): void {
    for (let i = 0; i < count; i += 1) {
      const fragment = this.media.fragments[this.#next];
      if (!fragment) throw new Error(`the test media has only ${this.media.fragments.length} frames`);
      this.#next += 1;
      this.packager.push(this.streamId, fragment);
      after?.();
    }
  }
}

/** Judges every playlist the packager would serve while `push` runs, each against the one before. */
export function judgeAll(
  p: LlHlsPackager,
  push: (after: () => void) => void,
): { snapshots: number; last: MediaPlaylist } {
  let previous: MediaPlaylist | undefined;
  let snapshots = 0;
  push(() => {
    const text = p.playlist();
    if (text === undefined) return;
    const { playlist, violations } = judgeLlHlsPlaylist(text, previous);
    if (violations.length > 0)
      expect.fail(`after ${snapshots} playlists:\n${violations.join('\n')}\n\n${text}`);
    previous = playlist;
    snapshots += 1;
  });
  return { snapshots, last: previous! };
}
