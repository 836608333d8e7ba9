/**
 * Where a segmenter run's HLS goes, per HLS_MODE. The stream manager drives either the same way:
 * - `plain`: ffmpeg's hls muxer writes MPEG-TS segments and the playlist to HLS_DIR; a run is
 *   playable once the playlist (watched on disk) lists one of its segments.
 * - `ll`: ffmpeg writes fMP4 to stdout, our packager cuts parts and segments in memory; a run is
 *   playable once its first part is listed.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { HlsMode } from '../config.js';
import type { LlHlsPackager } from '../outputs/ll-hls/packager.js';
import type { RemuxerOptions } from '../ingest/remuxer.js';
import { isSegmentOf } from '../outputs/names.js';
import { nextMediaSequence } from '../segmenter/playlist.js';
import { HlsFiles } from '../outputs/plain-hls/files.js';
import { PlaylistWatcher } from './playlist-watcher.js';

/** What a run's segmenter needs from the output. */
export type RunOptions = Pick<RemuxerOptions, 'format' | 'onMedia' | 'startNumber' | 'discontinuity'>;

export interface HlsOutput {
  readonly mode: HlsMode;
  /**
   * A silence in the camera's video needs a fresh segmenter: ffmpeg's hls muxer would fold it into
   * one long segment. (The LL-HLS packager cuts a discontinuity at the gap itself.)
   */
  readonly restartAfterSilence: boolean;
  /** Removes everything: before a start and after a stop. */
  clear(): Promise<void>;
  /**
   * Prepares a run. `restart`: a segmenter replaced while live (the playlist continues with a
   * discontinuity). Its input begins at a keyframe, whether or not the camera was already sending.
   */
  beginRun(streamId: string, run: { restart: boolean }): Promise<RunOptions>;
  /** Resolves once the run's media is listed; rejects with `signal.reason` on abort. */
  waitUntilPlayable(streamId: string, signal: AbortSignal): Promise<void>;
  /** A restarted run is playable: what the runs before it left behind may go. */
  afterRestart(streamId: string): Promise<void>;
}

export class FileHlsOutput implements HlsOutput {
  readonly mode = 'plain';
  readonly restartAfterSilence = true;
  readonly #files: HlsFiles;
  readonly #watcher: PlaylistWatcher;

  constructor(hlsDir: string, logger: FastifyBaseLogger) {
    this.#files = new HlsFiles(hlsDir, logger);
    this.#watcher = new PlaylistWatcher(hlsDir, logger);
  }

  clear(): Promise<void> {
    return this.#files.clear();
  }

  async beginRun(_streamId: string, { restart }: { restart: boolean }): Promise<RunOptions> {
    if (!restart) return { format: 'hls' };
    const playlist = await this.#watcher.read();
    const listed = playlist ? nextMediaSequence(playlist) : 0;
    return {
      format: 'hls',
      startNumber: Math.max(listed, await this.#files.nextSegmentNumber()),
      discontinuity: true,
    };
  }

  waitUntilPlayable(streamId: string, signal: AbortSignal): Promise<void> {
    return this.#watcher.waitUntilPlayable({ signal, acceptSegment: (uri) => isSegmentOf(streamId, uri) });
  }

  afterRestart(streamId: string): Promise<void> {
    return this.#files.removeSegmentsExcept(streamId);
  }
}

export class LowLatencyOutput implements HlsOutput {
  readonly mode = 'll';
  readonly restartAfterSilence = false;
  readonly packager: LlHlsPackager;

  constructor(packager: LlHlsPackager) {
    this.packager = packager;
  }

  async clear(): Promise<void> {
    this.packager.clear();
  }

  async beginRun(streamId: string, { restart }: { restart: boolean }): Promise<RunOptions> {
    this.packager.beginRun(streamId, { discontinuity: restart });
    return { format: 'fmp4', onMedia: (chunk) => this.packager.push(streamId, chunk) };
  }

  waitUntilPlayable(streamId: string, signal: AbortSignal): Promise<void> {
    return this.packager.waitUntilPlayable(streamId, signal);
  }

  async afterRestart(): Promise<void> {
    // The packager drops earlier runs' segments as they leave the playlist.
  }
}
