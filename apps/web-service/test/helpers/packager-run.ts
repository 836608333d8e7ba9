/**
 * Driving the LL-HLS packager from a test: a packager with the service's defaults, a remuxer run
 * that pushes real fMP4 frame by frame through the ingest's media reader and the LL-HLS output, as
 * the service does, and a judge for every playlist it would serve meanwhile.
 */
import { expect } from 'vitest';
import { MediaReader } from '../../src/ingest/media-reader.js';
import { LlHlsOutput } from '../../src/outputs/ll-hls/output.js';
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

/**
 * The remuxer's bytes for one run, as the service reads them (ingest/media-reader.ts) and hands them
 * to the LL-HLS output. `restart`: a remuxer replaced while live.
 */
export function remuxerRun(packager: LlHlsPackager, streamId = newStreamId(), { restart = false } = {}) {
  return new MediaReader({ streamId, restart, sink: new LlHlsOutput(packager) });
}

/** A run of the remuxer: its stream id, the init segment pushed, then frames on demand. */
export class Run {
  readonly streamId = newStreamId();
  readonly reader: MediaReader;
  #next = 0;
  constructor(
    readonly packager: LlHlsPackager,
    readonly media: Pick<Media, 'init' | 'fragments'>,
    { discontinuity = false } = {},
  ) {
    this.reader = remuxerRun(packager, this.streamId, { restart: discontinuity });
    this.reader.push(media.init);
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
      this.reader.push(fragment);
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
