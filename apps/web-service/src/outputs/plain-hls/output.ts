/**
 * Plain HLS (HLS_MODE=plain) as an output of the camera's fan-out, written by us from the same frames
 * as every other output: fMP4 segments cut at keyframes at about HLS_SEGMENT_SECONDS, each run's init
 * segment by EXT-X-MAP, EXT-X-DISCONTINUITY after a gap in the camera's video or a restarted remuxer.
 * Files are written under a temporary name and renamed into place, the playlist last; segments that
 * left the playlist are removed `listSize` segments later (a player may have just fetched it). The
 * first segment after a discontinuity (a gap, a restarted remuxer) replaces the segments before it at
 * once, as a restarted ffmpeg hls muxer did: their files go, the media sequence goes on. Only names we
 * made are ever removed (names.ts). Any player plays it: hls.js, Safari, VLC, ffmpeg.
 *
 * Frames are gathered in memory (no copy) and written when their segment ends: a delivery that ends
 * a segment returns the write, and the fan-out holds this output's next frames until it is done.
 */
import type { FastifyBaseLogger } from 'fastify';
import { endOfPause } from '../pause.js';
import { initName, PLAYLIST_NAME, segmentName } from '../names.js';
import type { Delivery, MediaEnd, MediaFrame, MediaInit, PlayableOutput } from '../output.js';
import { HlsFiles } from './files.js';
import { renderPlainPlaylist, type ListedSegment } from './playlist.js';

export interface PlainHlsOptions {
  /** The camera's folder: HLS_DIR, or HLS_DIR/<id>/ (cameras/camera.ts hlsDirOf). */
  readonly dir: string;
  /** HLS_SEGMENT_SECONDS: a segment ends at the first keyframe after about this long. */
  readonly segmentSeconds: number;
  /** HLS_LIST_SIZE: segments listed. */
  readonly listSize: number;
  readonly logger: FastifyBaseLogger;
  /** A frame lasting this long (and at least four frames) is a gap: the camera's stream paused. Default 500. */
  readonly gapMs?: number;
  /** Wall clock, ms (tests). */
  readonly now?: () => number;
}

interface Run {
  readonly streamId: string;
  readonly init: string;
  readonly timescale: number;
  /** Where decode time meets the wall clock (EXT-X-PROGRAM-DATE-TIME); reset after a gap. */
  anchor?: { readonly decodeTime: number; readonly wallMs: number };
  lastFrameTicks: number;
}

interface OpenSegment {
  readonly msn: number;
  readonly discontinuity: boolean;
  readonly programDateTime: number;
  readonly frames: Buffer[];
  ticks: number;
}

export class PlainHlsOutput implements PlayableOutput {
  readonly name = 'plain-hls';
  readonly mode = 'plain';
  readonly dir: string;
  readonly #options: PlainHlsOptions;
  readonly #files: HlsFiles;
  readonly #now: () => number;
  #run: Run | undefined;
  #open: OpenSegment | undefined;
  /** After a run's start or a gap, frames wait for a keyframe. */
  #awaitingKeyframe = true;
  /** The next segment begins after EXT-X-DISCONTINUITY. */
  #discontinuity = false;
  #nextMsn = 0;
  #segmentsMade = 0;
  #listed: ListedSegment[] = [];
  /** Segments that left the playlist, still on disk for players that fetched it just before. */
  #unlisted: ListedSegment[] = [];
  #discontinuitySequence = 0;
  /** File writes, in order: each waits for the one before. */
  #io: Promise<void> = Promise.resolve();
  readonly #waiters = new Set<() => void>();

  constructor(options: PlainHlsOptions) {
    this.#options = options;
    this.dir = options.dir;
    this.#files = new HlsFiles(options.dir, options.logger);
    this.#now = options.now ?? Date.now;
  }

  init(init: MediaInit): Delivery {
    this.#closeSegment(); // a run that ended without `end`: its writes come first
    const name = initName(init.streamId);
    this.#run = { streamId: init.streamId, init: name, timescale: init.timescale, lastFrameTicks: 0 };
    this.#awaitingKeyframe = true;
    // A new run's timestamps start over: after the runs before it, a discontinuity.
    if (this.#segmentsMade > 0) this.#discontinuity = true;
    return this.#enqueue(() => this.#files.write(name, init.bytes));
  }

  frame(frame: MediaFrame): Delivery {
    const run = this.#run;
    if (!run) return;
    const pause = endOfPause(frame, run, this.#options.gapMs);
    if (pause) {
      const added = pause.ordinary ? this.#add(run, pause.ordinary) : undefined;
      return this.#interrupt() ?? added;
    }
    return this.#add(run, frame);
  }

  /** The camera's video stopped (or frames were dropped): the segment ends, the next begins after a discontinuity. */
  gap(): Delivery {
    return this.#interrupt();
  }

  end({ streamId }: MediaEnd): Delivery {
    if (this.#run?.streamId !== streamId) return;
    const written = this.#closeSegment();
    this.#run = undefined;
    return written;
  }

  /** Removes every file of ours in the folder (creating it if needed); media sequence numbers go on. */
  async clear(): Promise<void> {
    await this.#io.catch(() => {});
    this.#run = undefined;
    this.#open = undefined;
    this.#awaitingKeyframe = true;
    this.#discontinuity = false;
    this.#segmentsMade = 0;
    this.#listed = [];
    this.#unlisted = [];
    this.#discontinuitySequence = 0;
    await this.#files.clear();
  }

  waitUntilPlayable(streamId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const init = initName(streamId);
    const listed = () => this.#listed.some((segment) => segment.init === init);
    if (listed()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!listed()) return;
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const done = () => {
        this.#waiters.delete(check);
        signal.removeEventListener('abort', onAbort);
      };
      this.#waiters.add(check);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #add(run: Run, frame: MediaFrame): Delivery {
    const frameTicks = frame.duration > 0 ? frame.duration : run.lastFrameTicks;
    let written: Delivery = undefined;
    if (this.#awaitingKeyframe || !this.#open) {
      if (!frame.keyframe) return;
      this.#awaitingKeyframe = false;
      this.#openSegment(run, frame);
    } else if (
      frame.keyframe &&
      this.#open.ticks >= this.#options.segmentSeconds * run.timescale - frameTicks / 2
    ) {
      written = this.#closeSegment();
      this.#openSegment(run, frame);
    }
    this.#open!.frames.push(frame.bytes);
    this.#open!.ticks += frame.duration;
    run.lastFrameTicks = frameTicks;
    return written;
  }

  #openSegment(run: Run, frame: MediaFrame): void {
    run.anchor ??= { decodeTime: frame.decodeTime, wallMs: this.#now() };
    this.#open = {
      msn: this.#nextMsn++,
      discontinuity: this.#discontinuity,
      programDateTime:
        run.anchor.wallMs + ((frame.decodeTime - run.anchor.decodeTime) / run.timescale) * 1000,
      frames: [],
      ticks: 0,
    };
    this.#discontinuity = false;
  }

  #interrupt(): Delivery {
    const written = this.#closeSegment();
    this.#awaitingKeyframe = true;
    if (this.#segmentsMade > 0) this.#discontinuity = true;
    if (this.#run) this.#run.anchor = undefined;
    return written;
  }

  /** Ends the open segment: written, then listed. */
  #closeSegment(): Promise<void> | undefined {
    const open = this.#open;
    const run = this.#run;
    this.#open = undefined;
    if (!open || !run || open.frames.length === 0) return undefined;
    this.#segmentsMade += 1;
    const segment: ListedSegment = {
      name: segmentName(run.streamId, open.msn),
      msn: open.msn,
      duration: open.ticks / run.timescale,
      init: run.init,
      discontinuity: open.discontinuity,
      programDateTime: open.programDateTime,
    };
    const bytes = open.frames.length === 1 ? open.frames[0]! : Buffer.concat(open.frames);
    return this.#enqueue(() => this.#publish(segment, bytes));
  }

  #enqueue(write: () => Promise<void>): Promise<void> {
    // A failed write is reported (through the fan-out) once; the writes after it still happen.
    this.#io = this.#io.catch(() => {}).then(write);
    return this.#io;
  }

  async #publish(segment: ListedSegment, bytes: Buffer): Promise<void> {
    await this.#files.write(segment.name, bytes);
    // After a discontinuity the playlist starts afresh, as it did when ffmpeg's hls muxer was
    // restarted: players that join (ffmpeg's hls demuxer among them, which ignores
    // EXT-X-DISCONTINUITY) never meet the timestamps jumping; the media sequence goes on.
    const earlier = segment.discontinuity ? [...this.#unlisted, ...this.#listed] : [];
    if (earlier.length > 0) {
      for (const gone of this.#listed) if (gone.discontinuity) this.#discontinuitySequence += 1;
      this.#listed = [];
      this.#unlisted = [];
    }
    this.#listed.push(segment);
    while (this.#listed.length > this.#options.listSize) {
      const gone = this.#listed.shift()!;
      if (gone.discontinuity) this.#discontinuitySequence += 1;
      this.#unlisted.push(gone);
    }
    await this.#files.write(
      PLAYLIST_NAME,
      renderPlainPlaylist({
        targetDuration: this.#options.segmentSeconds,
        discontinuitySequence: this.#discontinuitySequence,
        segments: this.#listed,
      }),
    );
    for (const wake of [...this.#waiters]) wake();
    if (earlier.length > 0) {
      const inits = new Set(earlier.map((gone) => gone.init).filter((init) => init !== segment.init));
      await this.#files.remove([...earlier.map((gone) => gone.name), ...inits]);
    }
    await this.#removeOld();
  }

  /** Segments `listSize` past the playlist go, and an init segment once no segment of its run is left. */
  async #removeOld(): Promise<void> {
    const gone: string[] = [];
    while (this.#unlisted.length > this.#options.listSize) gone.push(this.#unlisted.shift()!.name);
    if (gone.length === 0) return;
    const kept = new Set([...this.#unlisted, ...this.#listed].map((segment) => segment.init));
    if (this.#run) kept.add(this.#run.init);
    const inits = new Set(gone.map((name) => initName(name.slice(0, name.lastIndexOf('-')))));
    for (const init of inits) if (!kept.has(init)) gone.push(init);
    await this.#files.remove(gone);
  }
}
