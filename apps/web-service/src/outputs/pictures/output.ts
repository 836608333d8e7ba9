/**
 * The `pictures` output: snapshots (snapshot.jpg), MJPEG (stream.mjpg) and the raw stream
 * (stream.ts) of one camera, all from the fMP4 the fan-out delivers. It keeps the latest GOP
 * (gop.ts), from which a snapshot is decoded and a new MJPEG decoder or stream.ts reader starts.
 * Synchronous, so the fan-out never waits on it; the ffmpeg processes it starts are fed without
 * blocking (their owner drops input that ffmpeg does not read). The routes are routes/pictures.ts.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { createError } from '../../errors.js';
import type { MediaEnd, MediaFrame, MediaGap, MediaInit, Output } from '../output.js';
import { GopBuffer } from './gop.js';
import { MjpegStream, type MjpegStats } from './mjpeg.js';
import { RawTsReaders, type RawTsStats } from './raw-ts.js';
import type { PicturesConfig } from './settings.js';
import { Snapshots, type Snapshot, type SnapshotStats } from './snapshot.js';

export interface PicturesOutputOptions {
  readonly cameraId: string;
  readonly config: PicturesConfig & { readonly ffmpegPath: string };
  readonly logger: FastifyBaseLogger;
  /** How long the MJPEG decoder outlives its last viewer (default 5 s). */
  readonly mjpegLingerMs?: number;
}

export interface PicturesStats {
  readonly snapshot: SnapshotStats;
  readonly mjpeg: MjpegStats;
  readonly rawTs: RawTsStats;
}

export class PicturesOutput implements Output {
  readonly name = 'pictures';
  readonly #cameraId: string;
  /** At most 3 MB: a 1 s GOP of a 2 Mbit/s camera is ~250 kB (remuxer stdin takes 4 MB at once). */
  readonly #gop = new GopBuffer({ maxBytes: 3 * 1024 * 1024 });
  readonly #snapshots: Snapshots;
  readonly #mjpeg: MjpegStream;
  readonly #rawTs: RawTsReaders;
  readonly #rawMaxReaders: number;
  #live = false;
  #closing = false;

  constructor({ cameraId, config, logger, mjpegLingerMs }: PicturesOutputOptions) {
    this.#cameraId = cameraId;
    this.#rawMaxReaders = config.rawMaxReaders;
    const log = logger.child({ output: 'pictures' });
    const { ffmpegPath, picturesStallMs: stallMs } = config;
    this.#snapshots = new Snapshots({ gop: this.#gop, ffmpegPath, logger: log });
    this.#mjpeg = new MjpegStream({
      gop: this.#gop,
      ffmpegPath,
      fps: config.mjpegFps,
      quality: config.mjpegQuality,
      stallMs,
      ...(mjpegLingerMs !== undefined && { lingerMs: mjpegLingerMs }),
      logger: log,
    });
    this.#rawTs = new RawTsReaders({ gop: this.#gop, ffmpegPath, stallMs, logger: log });
  }

  /** The camera streams and a picture can be decoded (its first keyframe came). */
  get streaming(): boolean {
    return this.#live && !this.#closing && this.#gop.media() !== undefined;
  }

  init(init: MediaInit): void {
    this.#live = true;
    this.#gop.init(init);
    this.#mjpeg.restart();
  }

  frame(frame: MediaFrame): void {
    if (!this.#live) return;
    this.#gop.frame(frame, new Date());
    this.#mjpeg.frame(frame);
    this.#rawTs.frame(frame);
  }

  gap(_gap: MediaGap): void {
    // Frames were lost: the MJPEG decoder starts over at the next keyframe. (A stream.ts reader
    // gets the gap as it is, as it would from the camera.)
    this.#mjpeg.restart();
  }

  end(_end: MediaEnd): void {
    // A new run (if any) starts its timestamps over: stream.ts readers end, MJPEG viewers stay.
    this.#rawTs.endAll();
    this.#mjpeg.restart();
  }

  /** The stream stopped (or is about to start): responses end; the last picture stays for snapshots. */
  async clear(): Promise<void> {
    this.#live = false;
    this.#mjpeg.endAll();
    this.#rawTs.endAll();
  }

  refuseNewWork(): void {
    this.#closing = true;
    this.#mjpeg.endAll();
    this.#rawTs.endAll();
  }

  /**
   * The newest picture (while live), or the last one (after a stop); throws WEB_ERR_NO_SNAPSHOT if
   * there never was one, WEB_ERR_SNAPSHOT_FAILED if ffmpeg made none.
   */
  async snapshot(width: number | undefined): Promise<Snapshot> {
    const snapshot = this.#snapshots.get(width);
    if (!snapshot) throw createError('WEB_ERR_NO_SNAPSHOT', this.#cameraId, this.#cameraId);
    return snapshot;
  }

  /** Throws WEB_ERR_NOT_STREAMING (409) unless the camera streams: before a reply is taken over. */
  assertStreaming(what: string): void {
    if (!this.streaming) throw createError('WEB_ERR_NOT_STREAMING', this.#cameraId, this.#cameraId, what);
  }

  /** Adds an MJPEG viewer (after assertStreaming). */
  watchMjpeg(res: ServerResponse): void {
    this.#mjpeg.add(res);
  }

  /** Throws WEB_ERR_RAW_MAX_READERS (503) when the camera has RAW_MAX_READERS stream.ts readers. */
  assertRawTsRoom(): void {
    const max = this.#rawMaxReaders;
    if (this.#rawTs.stats().readers >= max) {
      throw createError('WEB_ERR_RAW_MAX_READERS', this.#cameraId, max);
    }
  }

  /** Adds a stream.ts reader (after assertStreaming and assertRawTsRoom). */
  readRawTs(res: ServerResponse): void {
    this.#rawTs.add(res);
  }

  stats(): PicturesStats {
    return { snapshot: this.#snapshots.stats(), mjpeg: this.#mjpeg.stats(), rawTs: this.#rawTs.stats() };
  }
}
