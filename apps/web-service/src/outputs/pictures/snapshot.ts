/**
 * Snapshots: the newest picture as a JPEG, decoded by a short-lived ffmpeg from the latest GOP
 * (gop.ts: the init, the newest keyframe and the frames after it). Requests that come while a decode
 * runs share it; a picture already decoded from the same frames (same `version`) is answered as is,
 * so many requests at once cost one decode. At most `maxDecodes` decodes (different widths) at once.
 */
import type { FastifyBaseLogger } from 'fastify';
import { createError } from '../../errors.js';
import { FfmpegRemuxer } from '../../ingest/remuxer.js';
import { snapshotArguments } from './ffmpeg-args.js';
import type { GopBuffer } from './gop.js';
import { JpegSplitter } from './jpeg-splitter.js';

export interface Snapshot {
  readonly jpeg: Buffer;
  /** When the frame it shows came (Last-Modified). */
  readonly at: Date;
}

export interface SnapshotStats {
  readonly requests: number;
  readonly decodes: number;
}

interface SnapshotOptions {
  readonly gop: GopBuffer;
  readonly ffmpegPath: string;
  readonly logger: FastifyBaseLogger;
  readonly maxDecodes?: number;
}

/** Decoded pictures kept, by width (`?width=`), for requests of the same frames. */
const MAX_CACHED = 8;

export class Snapshots {
  readonly #options: SnapshotOptions;
  readonly #inflight = new Map<string, Promise<Snapshot>>();
  readonly #cache = new Map<string, { version: number; snapshot: Snapshot }>();
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #stats = { requests: 0, decodes: 0 };

  constructor(options: SnapshotOptions) {
    this.#options = options;
  }

  /** The newest picture, undefined if there never was one; throws WEB_ERR_SNAPSHOT_FAILED. */
  get(width: number | undefined): Promise<Snapshot> | undefined {
    this.#stats.requests += 1;
    const key = String(width ?? 'full');
    const { gop } = this.#options;
    const cached = this.#cache.get(key);
    if (cached?.version === gop.version) return Promise.resolve(cached.snapshot);
    const running = this.#inflight.get(key);
    if (running) return running;
    const media = gop.media();
    const at = gop.lastFrameAt;
    if (!media || !at) return cached ? Promise.resolve(cached.snapshot) : undefined;
    const version = gop.version;
    const decoded = this.#limited(() => this.#decode(media.chunks, media.frames, width))
      .then((jpeg) => {
        const snapshot = { jpeg, at };
        this.#cache.delete(key);
        this.#cache.set(key, { version, snapshot });
        if (this.#cache.size > MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
        return snapshot;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, decoded);
    return decoded;
  }

  stats(): SnapshotStats {
    return { ...this.#stats };
  }

  async #limited<T>(work: () => Promise<T>): Promise<T> {
    const max = this.#options.maxDecodes ?? 2;
    while (this.#running >= max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running += 1;
    try {
      return await work();
    } finally {
      this.#running -= 1;
      this.#waiting.shift()?.();
    }
  }

  async #decode(chunks: readonly Buffer[], frames: number, width: number | undefined): Promise<Buffer> {
    this.#stats.decodes += 1;
    const splitter = new JpegSplitter();
    let last: Buffer | undefined;
    const decoder = new FfmpegRemuxer({
      ffmpegPath: this.#options.ffmpegPath,
      streamId: `snapshot-${this.#stats.decodes}`,
      arguments: snapshotArguments(frames, width),
      onMedia: (chunk) => {
        for (const picture of splitter.push(chunk)) last = picture;
      },
      // One decode per request burst: its start and stop are not news, its errors are.
      logger: this.#options.logger.child({ output: 'snapshot' }, { level: 'warn' }),
      // The end of input lets it decode the GOP and exit: a second at most for a long one.
      quitTimeoutMs: 5000,
    });
    await decoder.start();
    for (const chunk of chunks) decoder.write(chunk);
    const exit = await decoder.close();
    if (!last) throw createError('WEB_ERR_SNAPSHOT_FAILED', exit.reason);
    return last;
  }
}
