/**
 * stream.ts: the camera's H.264 in MPEG-TS over HTTP, for ffmpeg, VLC, OpenCV and recorders. Each
 * reader has its own ffmpeg remuxing the fMP4 back to MPEG-TS (`-c copy`: no decoding, a few ms of
 * CPU a second), fed the latest GOP first, so that its stream starts at a keyframe (up to one GOP
 * behind, caught up at once), then each frame as it arrives. A reader with more than `maxBacklog`
 * bytes waiting, or that has taken nothing for PICTURES_STALL_MS, is dropped. The run's end (a
 * stop, or a remuxer restarted with new timestamps) ends each response after what was sent.
 *
 * One ffmpeg per reader, capped (RAW_MAX_READERS, 503 beyond), rather than one remux shared by all:
 * a reader of a raw stream (a recorder, an NVR, ffmpeg, VLC, OpenCV) expects its stream to begin
 * with PAT/PMT and a keyframe, with its own continuity counters, and to begin at once. One shared
 * MPEG-TS output would give a late reader packets from the middle of a GOP (most demuxers then
 * show garbage or wait up to a GOP) unless we cut ffmpeg's output at keyframes and re-sent the
 * tables ourselves, which is a TS muxer of our own. A `-c copy` remux costs a few ms of CPU a second
 * and a process of its own (its memory), and raw readers are programs, a handful per camera: the cap bounds the
 * processes a camera can cost (like WEBRTC_MAX_VIEWERS), and a reader past it learns why (coded
 * 503) instead of slowing the others. Viewers in numbers belong on HLS, WebRTC or MJPEG.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { FfmpegRemuxer } from '../../ingest/remuxer.js';
import type { MediaFrame } from '../output.js';
import { rawTsArguments } from './ffmpeg-args.js';
import type { GopBuffer } from './gop.js';
import { HttpReader } from './reader.js';

export interface RawTsOptions {
  readonly gop: GopBuffer;
  readonly ffmpegPath: string;
  readonly stallMs: number;
  /** Bytes a reader may have waiting before it is dropped: about 8 s of a 2 Mbit/s camera. */
  readonly maxBacklog?: number;
  readonly logger: FastifyBaseLogger;
}

export interface RawTsStats {
  readonly readers: number;
  readonly readersTotal: number;
  readonly dropped: number;
}

interface Reader {
  readonly http: HttpReader;
  readonly remuxer: FfmpegRemuxer;
  feeding: boolean;
}

export class RawTsReaders {
  readonly #options: RawTsOptions;
  readonly #log: FastifyBaseLogger;
  readonly #readers = new Set<Reader>();
  #stats = { readersTotal: 0, dropped: 0 };

  constructor(options: RawTsOptions) {
    this.#options = options;
    this.#log = options.logger.child({ output: 'stream.ts' });
  }

  /** A new reader (the stream is live and has a keyframe: the route checked). */
  add(res: ServerResponse): void {
    const { gop, ffmpegPath, stallMs, maxBacklog = 2 * 1024 * 1024 } = this.#options;
    const http = new HttpReader(res, { stallMs });
    res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'no-cache, no-store' });
    this.#stats.readersTotal += 1;
    const remuxer = new FfmpegRemuxer({
      ffmpegPath,
      streamId: `stream-ts-${this.#stats.readersTotal}`,
      arguments: rawTsArguments(),
      onMedia: (chunk) => {
        if (http.ended) return;
        if (http.backlog > maxBacklog || http.stalled) return this.#drop(reader);
        http.write(chunk);
      },
      logger: this.#log.child({}, { level: 'warn' }),
    });
    const reader: Reader = { http, remuxer, feeding: false };
    this.#readers.add(reader);
    res.once('close', () => {
      this.#readers.delete(reader);
      void remuxer.close();
    });
    // Whatever ends ffmpeg, the response ends after what it wrote.
    void remuxer.exited().then(() => http.end());
    remuxer.start().then(
      () => {
        for (const chunk of gop.media()?.chunks ?? []) remuxer.write(chunk);
        reader.feeding = true;
      },
      (err: unknown) => {
        this.#log.error({ err }, 'the stream.ts remuxer did not start');
        http.drop();
      },
    );
  }

  frame(frame: MediaFrame): void {
    for (const reader of this.#readers) if (reader.feeding) reader.remuxer.write(frame.bytes);
  }

  /** The run is over: each reader gets what its ffmpeg still holds, then the end of its response. */
  endAll(): void {
    for (const reader of this.#readers) void reader.remuxer.close();
    this.#readers.clear();
  }

  stats(): RawTsStats {
    return { readers: this.#readers.size, ...this.#stats };
  }

  #drop(reader: Reader): void {
    if (!this.#readers.delete(reader)) return;
    this.#stats.dropped += 1;
    this.#log.info({ backlog: reader.http.backlog }, 'a stream.ts reader does not keep up: dropped');
    reader.http.drop();
    void reader.remuxer.close();
  }
}
