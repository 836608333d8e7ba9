/**
 * A camera's MJPEG stream (stream.mjpg): one ffmpeg decoder for all its viewers, started by the
 * first and stopped `lingerMs` after the last has gone (a reload does not restart it). It is fed the
 * latest GOP at once (the first picture comes without waiting for a keyframe), then every frame as
 * it arrives, and writes JPEGs at MJPEG_FPS, each sent to every viewer as one part of a
 * `multipart/x-mixed-replace` response. A viewer whose previous picture has not gone to the kernel
 * yet skips this one (so a slow viewer never slows the others, and is never buffered for beyond one
 * picture); one that has taken nothing for PICTURES_STALL_MS is dropped.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { FfmpegRemuxer } from '../../ingest/remuxer.js';
import type { MediaFrame } from '../output.js';
import { mjpegArguments } from './ffmpeg-args.js';
import type { GopBuffer } from './gop.js';
import { HttpReader } from './reader.js';
import { JpegSplitter } from './jpeg-splitter.js';

export const MJPEG_BOUNDARY = 'camstreamframe';
export const MJPEG_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`;

export interface MjpegOptions {
  readonly gop: GopBuffer;
  readonly ffmpegPath: string;
  readonly fps: number;
  readonly quality: number;
  readonly stallMs: number;
  readonly lingerMs?: number;
  readonly logger: FastifyBaseLogger;
}

export interface MjpegStats {
  readonly viewers: number;
  /** Decoders started (one at a time per camera). */
  readonly decoders: number;
  readonly decoderRunning: boolean;
  readonly pictures: number;
  /** Pictures a busy viewer skipped. */
  readonly skipped: number;
  /** Viewers dropped for taking nothing. */
  readonly dropped: number;
}

export class MjpegStream {
  readonly #options: MjpegOptions;
  readonly #log: FastifyBaseLogger;
  readonly #viewers = new Set<HttpReader>();
  #decoder: FfmpegRemuxer | undefined;
  /** The decoder has had the GOP: frames go to it as they come. */
  #feeding = false;
  #latest: Buffer | undefined;
  #linger: NodeJS.Timeout | undefined;
  #stats = { decoders: 0, pictures: 0, skipped: 0, dropped: 0 };

  constructor(options: MjpegOptions) {
    this.#options = options;
    this.#log = options.logger.child({ output: 'mjpeg' });
  }

  get viewers(): number {
    return this.#viewers.size;
  }

  /** A new viewer (the stream is live: the route checked): headers now, the newest picture if any. */
  add(res: ServerResponse): void {
    const viewer = new HttpReader(res, { stallMs: this.#options.stallMs });
    res.writeHead(200, {
      'content-type': MJPEG_CONTENT_TYPE,
      'cache-control': 'no-cache, no-store',
      pragma: 'no-cache',
      connection: 'close',
    });
    this.#viewers.add(viewer);
    res.once('close', () => this.#remove(viewer));
    clearTimeout(this.#linger);
    if (this.#latest) this.#send(viewer, this.#latest);
    if (!this.#decoder) this.#startDecoder();
  }

  frame(frame: MediaFrame): void {
    if (this.#feeding) this.#decoder?.write(frame.bytes);
    else if (!this.#decoder && frame.keyframe && this.#viewers.size > 0) this.#startDecoder();
  }

  /** The run is over (or frames were lost): the decoder goes; the next keyframe starts another. */
  restart(): void {
    this.#stopDecoder();
  }

  /** The stream stopped: every viewer's response ends (its closing boundary), the decoder goes. */
  endAll(): void {
    for (const viewer of this.#viewers) viewer.end(`--${MJPEG_BOUNDARY}--\r\n`);
    this.#viewers.clear();
    this.#latest = undefined;
    this.#stopDecoder();
  }

  stats(): MjpegStats {
    return { viewers: this.#viewers.size, decoderRunning: this.#decoder !== undefined, ...this.#stats };
  }

  #remove(viewer: HttpReader): void {
    this.#viewers.delete(viewer);
    if (this.#viewers.size > 0 || !this.#decoder) return;
    clearTimeout(this.#linger);
    this.#linger = setTimeout(() => {
      if (this.#viewers.size === 0) this.#stopDecoder();
    }, this.#options.lingerMs ?? 5000);
    this.#linger.unref();
  }

  #startDecoder(): void {
    const { gop, ffmpegPath, fps, quality } = this.#options;
    if (!gop.media()) return; // no keyframe yet: the next one starts it
    const splitter = new JpegSplitter();
    const decoder = new FfmpegRemuxer({
      ffmpegPath,
      streamId: `mjpeg-${this.#stats.decoders + 1}`,
      arguments: mjpegArguments(fps, quality),
      onMedia: (chunk) => {
        if (this.#decoder !== decoder) return;
        for (const picture of splitter.push(chunk)) this.#broadcast(picture);
      },
      logger: this.#log,
    });
    this.#decoder = decoder;
    this.#feeding = false;
    this.#stats.decoders += 1;
    decoder.on('died', () => {
      if (this.#decoder !== decoder) return;
      this.#decoder = undefined; // the next keyframe starts another, if anyone watches
      this.#feeding = false;
    });
    decoder.start().then(
      () => {
        if (this.#decoder !== decoder) return;
        // The GOP so far, from its keyframe; from here on each frame as it comes (frame()).
        for (const chunk of gop.media()?.chunks ?? []) decoder.write(chunk);
        this.#feeding = true;
      },
      (err: unknown) => {
        if (this.#decoder === decoder) this.#decoder = undefined;
        this.#log.error({ err }, 'the MJPEG decoder did not start');
      },
    );
  }

  #stopDecoder(): void {
    const decoder = this.#decoder;
    this.#decoder = undefined;
    this.#feeding = false;
    clearTimeout(this.#linger);
    if (decoder) void decoder.close();
  }

  #broadcast(picture: Buffer): void {
    this.#latest = picture;
    this.#stats.pictures += 1;
    for (const viewer of this.#viewers) this.#send(viewer, picture);
  }

  #send(viewer: HttpReader, picture: Buffer): void {
    if (viewer.stalled) {
      this.#stats.dropped += 1;
      this.#log.info('an MJPEG viewer took nothing for PICTURES_STALL_MS: dropped');
      this.#viewers.delete(viewer);
      viewer.drop();
      return;
    }
    if (viewer.busy) {
      this.#stats.skipped += 1;
      return;
    }
    viewer.write(
      `--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${picture.length}\r\n\r\n`,
    );
    viewer.write(picture);
    viewer.write('\r\n');
  }
}
