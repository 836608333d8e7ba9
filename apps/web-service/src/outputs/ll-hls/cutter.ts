/**
 * The cutting half of the LL-HLS packager. ffmpeg remuxes the camera's MPEG-TS to fragmented MP4
 * with one fragment per frame (no re-encode), read once by the ingest (ingest/media-reader.ts) and
 * handed to every output; this cuts those frames into parts of at most
 * PART-TARGET and segments of about HLS_SEGMENT_SECONDS that start on keyframes, and hands each
 * finished part and segment to the packager (packager.ts), which holds them and serves them.
 *
 * It owns the current run's state (the open segment, the part being filled), the media sequence
 * numbers and PART-TARGET, decided from the camera's frame rate unless configured.
 *
 * A "run" is one segmenter process. A restarted segmenter starts a new run: its first segment gets
 * EXT-X-DISCONTINUITY and its own init segment; media sequence numbers continue.
 */
import type { FastifyBaseLogger } from 'fastify';
import { withSampleDuration, type Fragment, type InitSegment } from '../../ingest/fmp4.js';
import { initName, partName } from '../names.js';
import { AIM_SECONDS, planParts } from './part-target.js';
import type { Part, Segment, SegmentRun } from './segments.js';

/** What the cutter hands to the packager, which holds the complete segments. */
export interface CutterSink {
  /** The packager holds a complete segment: a run's first segment after one follows a discontinuity. */
  holdsSegments(): boolean;
  /** A run's init segment, by name. */
  initMade(name: string, bytes: Buffer): void;
  /** A part joined the open segment; `publish` is false when the segment ends with it (one update). */
  partMade(publish: boolean): void;
  /** A segment is complete: its bytes are set, its parts views into them. */
  segmentMade(segment: Segment): void;
}

export interface CutterOptions {
  /** PART-TARGET, seconds (HLS_PART_MS); unset: from the first frame (see PackagerOptions). */
  readonly partTarget: number | undefined;
  /** EXT-X-TARGETDURATION, whole seconds. */
  readonly targetDuration: number;
  /** A pause at least this long (and at least four frames) is a gap (see PackagerOptions). */
  readonly gapMs: number;
  /** Until the camera's second keyframe every part is a segment of its own (see #endPart). */
  readonly quickStart: boolean;
  readonly log: FastifyBaseLogger;
  /** Wall clock, ms. */
  readonly now: () => number;
  readonly sink: CutterSink;
}

/** What the packager reads of the current run. */
export interface RunView extends SegmentRun {
  readonly open?: Segment;
  /** The frames of the part being filled. */
  readonly frames: readonly Buffer[];
  readonly lastFrameTicks: number;
  /** Complete segments this run has made. */
  readonly segmentsMade: number;
}

interface Run extends SegmentRun {
  readonly streamId: string;
  readonly discontinuity: boolean;
  init?: InitSegment & { name: string };
  anchor?: { decodeTime: number; wallMs: number };
  open?: Segment;
  /** The part being filled. */
  frames: Buffer[];
  partTicks: number;
  partIndependent: boolean;
  lastFrameTicks: number;
  /** Complete segments this run has made. */
  segmentsMade: number;
  warnedLongGop: boolean;
  /** How far the wall clock has run ahead of the media since the anchor, at its least (ms). */
  leastLagMs: number;
  /** Until the camera's second keyframe, every part is a segment of its own (see #endPart). */
  startPhase: boolean;
  /** After a gap: frames are dropped until a keyframe, which opens a segment after a discontinuity. */
  interrupted?: { readonly reason: string; readonly atMs: number; dropped: number };
}

export class Cutter {
  readonly #options: CutterOptions;
  readonly #log: FastifyBaseLogger;
  readonly #sink: CutterSink;
  #run: Run | undefined;
  #nextMsn = 0;
  #partsMade = 0;
  #gaps = 0;
  /** PART-TARGET, seconds: HLS_PART_MS, or decided from the first frame's duration. */
  #partTarget: number | undefined;

  constructor(options: CutterOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#sink = options.sink;
    this.#partTarget = options.partTarget;
  }

  /** PART-TARGET, seconds; until the first frame decides it (unless configured), the aim. */
  get partTarget(): number {
    return this.#partTarget ?? AIM_SECONDS;
  }

  /** The current run, if any. */
  get run(): RunView | undefined {
    return this.#run;
  }

  /** The media sequence number of the next segment to open. */
  get nextMsn(): number {
    return this.#nextMsn;
  }

  /** Parts made since the service started. */
  get partsMade(): number {
    return this.#partsMade;
  }

  /** Gaps in the camera's stream since the service started. */
  get gaps(): number {
    return this.#gaps;
  }

  /** Starts a run for a new remuxer; the open segment of the previous run is closed first. */
  beginRun(streamId: string, discontinuity: boolean): void {
    this.#closeRun();
    const run: Run = {
      streamId,
      discontinuity: discontinuity && this.#sink.holdsSegments(),
      frames: [],
      partTicks: 0,
      partIndependent: false,
      lastFrameTicks: 0,
      segmentsMade: 0,
      // Only the stream's first run: a restarted segmenter's is joined by players already playing,
      // and players without LL support would start its short segments between keyframes.
      startPhase: this.#options.quickStart && !this.#sink.holdsSegments(),
      warnedLongGop: false,
      leastLagMs: Infinity,
    };
    this.#run = run;
  }

  /** The current run's init segment. */
  init(init: InitSegment): void {
    if (this.#run) this.#onInit(this.#run, init);
  }

  /** A frame of the current run; ignored without one (after a stop). */
  frame(fragment: Fragment): void {
    if (this.#run) this.#onFragment(this.#run, fragment);
  }

  /** Drops the current run as it is (a stop). Media sequence numbers keep counting. */
  clear(): void {
    this.#run = undefined;
    // The next stream may come from another camera, at another frame rate.
    this.#partTarget = this.#options.partTarget;
  }

  #onInit(run: Run, init: InitSegment): void {
    if (run.init) {
      this.#log.warn({ streamId: run.streamId }, 'a second init segment in one run: ignored');
      return;
    }
    const name = initName(run.streamId);
    run.init = { ...init, name };
    this.#sink.initMade(name, init.bytes);
  }

  #onFragment(run: Run, fragment: Fragment): void {
    if (this.#run !== run || !run.init) return;
    const { timescale } = run.init;
    const now = this.#options.now();
    const gapTicks = Math.max((this.#options.gapMs / 1000) * timescale, 4 * run.lastFrameTicks);
    if (run.lastFrameTicks > 0 && fragment.duration > gapTicks) {
      // ffmpeg writes a frame's fragment once the next frame arrives, with the time until it as its
      // duration: the last frame before a pause in the camera's stream (a network drop) lasts the
      // whole pause. It gets an ordinary frame's duration and ends the segment; the frames after
      // the pause were encoded against ones that were lost, so the stream goes on at a keyframe.
      const ordinary = withSampleDuration(fragment, run.lastFrameTicks);
      if (ordinary) this.#onFragment(run, ordinary);
      if (run.open || !run.interrupted) {
        this.#interrupt(
          run,
          `the camera’s timestamps jumped ${(fragment.duration / timescale).toFixed(1)} s`,
        );
      }
      return;
    }
    if (run.anchor && !run.interrupted) {
      // How far the wall clock is ahead of the media since the anchor. It stays level while the
      // camera streams; it grows when delivery paused but the timestamps did not jump (a restarted
      // encoder, whose timestamps ffmpeg makes continuous, or a stopped one).
      const lagMs =
        now - run.anchor.wallMs - ((fragment.decodeTime - run.anchor.decodeTime) / timescale) * 1000;
      run.leastLagMs = Math.min(run.leastLagMs, lagMs);
      if (fragment.keyframe && lagMs - run.leastLagMs > this.#options.gapMs) {
        this.#interrupt(
          run,
          `the camera’s stream paused for ${((lagMs - run.leastLagMs) / 1000).toFixed(1)} s`,
        );
      }
    }
    if (run.interrupted && !run.open) {
      if (!fragment.keyframe) {
        run.interrupted.dropped += 1;
        return;
      }
      const { reason, atMs, dropped } = run.interrupted;
      run.interrupted = undefined;
      run.anchor = { decodeTime: fragment.decodeTime, wallMs: now };
      run.leastLagMs = 0;
      this.#log.info(
        { streamId: run.streamId, reason, waitedMs: now - atMs, framesDropped: dropped },
        'the camera’s stream goes on after a discontinuity',
      );
      this.#openSegment(run, fragment, { discontinuity: this.#sink.holdsSegments() });
    }
    this.#addFrame(run, fragment, now);
  }

  /** Ends the segment at a gap in the camera's stream; the next keyframe opens one after a discontinuity. */
  #interrupt(run: Run, reason: string): void {
    this.#closePart(run);
    this.#closeSegment(run);
    run.interrupted = { reason, atMs: this.#options.now(), dropped: 0 };
    this.#gaps += 1;
    this.#log.warn({ streamId: run.streamId, reason }, 'a gap in the camera’s stream');
  }

  /** Adds a frame to the part being filled, opening and closing parts and segments on the way. */
  #addFrame(run: Run, fragment: Fragment, now: number): void {
    const { timescale } = run.init!;
    const ticks = fragment.duration;
    // A part never exceeds PART-TARGET (a MUST): 10 frames at 30 fps are 0.33333 s, over a 0.333
    // target, so 333 ms parts hold 9 frames. Compared in whole ticks, so 6 × 3000 = 18000 fits 0.2 s.
    const segmentTicks = this.#options.targetDuration * timescale;
    // A frame's own duration is known (trun); the next one's is assumed to be the same.
    const frameTicks = ticks > 0 ? ticks : run.lastFrameTicks;
    if (this.#partTarget === undefined && frameTicks > 0) {
      const plan = planParts(frameTicks / timescale, AIM_SECONDS, this.#options.targetDuration);
      this.#partTarget = plan.partTarget;
      this.#log.info(
        { fps: Number((timescale / frameTicks).toFixed(3)), ...plan },
        'PART-TARGET from the camera’s frame rate',
      );
    }
    const partTicks = Math.round(this.partTarget * timescale);

    const open = run.open;
    if (!open) {
      // A run starts on a keyframe; after a segment the quick start cut short it goes on as it is.
      if (!fragment.keyframe && run.segmentsMade === 0) return;
      run.anchor ??= { decodeTime: fragment.decodeTime, wallMs: now };
      this.#openSegment(run, fragment);
    } else if (
      fragment.keyframe &&
      // An empty segment (just opened on this keyframe) has nothing to close.
      (open.parts.length > 0 || run.frames.length > 0) &&
      (run.startPhase
        ? run.segmentsMade >= 2
        : open.duration + run.partTicks >= segmentTicks - frameTicks / 2 ||
          !this.#startsIndependent(run, open))
    ) {
      // A keyframe once the segment (its parts and the frames of the part being filled) is long
      // enough, or ending one that began between keyframes (after a cut, or the quick start's parts,
      // which need not line up with the camera's GOP): the next segment starts here.
      this.#closePart(run);
      this.#closeSegment(run);
      this.#openSegment(run, fragment);
    } else if (open.duration + run.partTicks + frameTicks >= segmentTicks + timescale / 2) {
      // No keyframe in time: rounded, the segment would exceed EXT-X-TARGETDURATION (§6.2.1). Cut here.
      if (!run.warnedLongGop) {
        run.warnedLongGop = true;
        this.#log.warn(
          { targetDuration: this.#options.targetDuration },
          'the camera’s keyframe interval is longer than HLS_SEGMENT_SECONDS: segments are cut between keyframes',
        );
      }
      this.#closePart(run);
      this.#closeSegment(run);
      this.#openSegment(run, fragment);
    } else if (run.partTicks + ticks > partTicks) {
      this.#endPart(run); // this frame would overrun PART-TARGET
      if (!run.open) this.#openSegment(run, fragment);
    }

    if (run.frames.length === 0) run.partIndependent = fragment.keyframe;
    run.frames.push(fragment.bytes);
    run.partTicks += ticks;
    run.lastFrameTicks = frameTicks;
    // Eager: publish the part now if the next frame would not fit, rather than when it arrives.
    // The stream's first segment, a lone part, may be short (only a segment's last part may be under
    // 85 % of PART-TARGET, and it is that): half a part, so the first frame is on screen ~0.1 s sooner.
    const firstOfStream = run.open?.partsListable === false;
    if (run.partTicks + frameTicks > partTicks || (firstOfStream && 2 * run.partTicks >= partTicks)) {
      this.#endPart(run);
    }
  }

  /**
   * Closes the part being filled. Until the camera's second keyframe, each part also ends its
   * segment. hls.js starts only from a complete segment, and waiting for the second keyframe would
   * keep the first frame off the screen for a whole GOP (1 s on most cameras). And it loads parts
   * only once its buffer is near the live edge (shouldLoadParts: past the first listed part plus the
   * open segment's parts), which a player that just started is not: it loads whole segments, so a
   * 1 s segment after the first would freeze the picture until it is complete. Segments then start
   * between keyframes: allowed, since the playlist does not claim EXT-X-INDEPENDENT-SEGMENTS, and
   * players start on an INDEPENDENT part.
   */
  #endPart(run: Run): void {
    this.#closePart(run);
    if (run.open && run.startPhase && run.open.parts.length > 0) this.#closeSegment(run);
  }

  /**
   * The segment begins on a keyframe: its first part, or the part being filled if it has none yet;
   * an empty one begins with the frame that comes.
   */
  #startsIndependent(run: Run, segment: Segment): boolean {
    if (segment.parts.length > 0) return segment.independent;
    return run.frames.length === 0 || run.partIndependent;
  }

  /** Opens a segment at `fragment`; one that begins on a keyframe after two segments ends the quick start. */
  #openSegment(run: Run, fragment: Fragment, { discontinuity = false } = {}): Segment {
    const { timescale } = run.init!;
    const { decodeTime } = fragment;
    const anchor = run.anchor!;
    const first = run.segmentsMade === 0;
    if (fragment.keyframe && run.segmentsMade >= 2) run.startPhase = false;
    const segment: Segment = {
      msn: this.#nextMsn,
      run,
      discontinuity: discontinuity || (first && run.discontinuity),
      programDateTime: anchor.wallMs + ((decodeTime - anchor.decodeTime) / timescale) * 1000,
      parts: [],
      // Only the stream's very first segment: a restarted run's comes after listed parts.
      partsListable: !(first && !this.#sink.holdsSegments() && run.startPhase),
      duration: 0,
      independent: false,
      partsReleased: false,
    };
    this.#nextMsn += 1;
    run.open = segment;
    return segment;
  }

  #closePart(run: Run): void {
    const open = run.open;
    if (!open || run.frames.length === 0) return;
    const { timescale } = run.init!;
    const index = open.parts.length;
    const part: Part = {
      index,
      uri: partName(run.streamId, open.msn, index),
      duration: run.partTicks / timescale,
      independent: run.partIndependent,
      bytes: run.frames.length === 1 ? run.frames[0]! : Buffer.concat(run.frames),
    };
    if (index === 0) open.independent = run.partIndependent;
    open.parts.push(part);
    open.duration += run.partTicks;
    run.frames = [];
    run.partTicks = 0;
    this.#partsMade += 1;
    // In the quick start the part also ends its segment: published with the segment, in one update.
    this.#sink.partMade(!run.startPhase);
  }

  #closeSegment(run: Run): void {
    const open = run.open;
    run.open = undefined;
    if (!open || open.parts.length === 0) return;
    const bytes = Buffer.concat(open.parts.map((part) => part.bytes));
    // The parts become views into the segment: its bytes are held once.
    let offset = 0;
    for (const part of open.parts) {
      part.bytes = bytes.subarray(offset, offset + part.bytes.length);
      offset += part.bytes.length;
    }
    open.bytes = bytes;
    run.segmentsMade += 1;
    this.#sink.segmentMade(open);
  }

  /** Ends the current run: its last frames become a final part, its open segment a complete one. */
  #closeRun(): void {
    const run = this.#run;
    if (!run) return;
    this.#closePart(run);
    this.#closeSegment(run);
    this.#run = undefined;
  }
}
