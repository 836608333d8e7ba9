/**
 * The Low-Latency HLS packager. ffmpeg remuxes the camera's MPEG-TS to fragmented MP4 with one
 * fragment per frame (no re-encode); this cuts those frames into parts of at most PART-TARGET and
 * segments of about HLS_SEGMENT_SECONDS that start on keyframes, keeps them in memory, and answers
 * for them: the playlist (full or delta), blocking reloads, parts, segments and init segments.
 *
 * Memory is bounded by what the playlist references: the listed segments, as many again for players
 * that fetched the playlist just before one left it, and the parts of the last few segments.
 *
 * A "run" is one segmenter process. A restarted segmenter starts a new run: its first segment gets
 * EXT-X-DISCONTINUITY and its own init segment; media sequence numbers continue.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Fmp4Reader, withSampleDuration, type Fragment, type InitSegment } from './fmp4.js';
import { judgeBlockingRequest, renderPlaylist, type BlockingVerdict, type PlaylistModel } from './model.js';
import { initName, parseMediaName, partName } from '../segmenter/names.js';
import { AIM_SECONDS, planParts } from './part-target.js';
import { UpdateWaiters, type WaitResult } from './waiters.js';
import {
  listedEntries,
  listedFrom as listedFrom_,
  releaseOldParts,
  segmentEntry,
  segmentSeconds,
  type Part,
  type Segment,
  type SegmentRun,
} from './segments.js';

export type { WaitResult } from './waiters.js';

export interface PackagerOptions {
  /**
   * PART-TARGET, seconds (HLS_PART_MS). Unset: whole frames near 200 ms, from the camera's frame
   * rate (part-target.ts), decided on the first frame and kept until `clear()`.
   */
  readonly partTarget?: number;
  /** EXT-X-TARGETDURATION, whole seconds. */
  readonly targetDuration: number;
  /** Complete segments listed (at least 3, so the playlist covers three target durations). */
  readonly listSize: number;
  readonly logger: FastifyBaseLogger;
  /**
   * A pause in the camera's stream at least this long (and at least four frames) is a gap: the
   * segment ends, the stream continues at the next keyframe after EXT-X-DISCONTINUITY. Default 500.
   */
  readonly gapMs?: number;
  /**
   * A start within a part, whatever the camera's keyframe interval (default): until the camera's
   * second keyframe every part is a segment of its own (#endPart), the first listed without its
   * part (#buildModel). False: the first segment, like every other, ends at a keyframe after about
   * `targetDuration` (a whole GOP before the first frame can be shown).
   */
  readonly quickStart?: boolean;
  /** Wall clock, ms (tests). */
  readonly now?: () => number;
}

interface Run extends SegmentRun {
  readonly streamId: string;
  readonly reader: Fmp4Reader;
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
  /**
   * Until the camera's second keyframe, every part is a segment of its own (see #endPart). */
  startPhase: boolean;
  /** The segment before was cut after its part: the next frame opens one, keyframe or not. */
  cutEarly: boolean;
  /** After a gap: frames are dropped until a keyframe, which opens a segment after a discontinuity. */
  interrupted?: { readonly reason: string; readonly atMs: number; dropped: number };
}

export interface PackagerStats {
  /** Bytes of media held: init segments, parts and segments. */
  readonly bytesHeld: number;
  readonly segmentsHeld: number;
  readonly partsHeld: number;
  readonly partsMade: number;
  /** Gaps in the camera's stream (each continued after a discontinuity) since the service started. */
  readonly gaps: number;
  /** Requests waiting for a part or a playlist update. */
  readonly waiting: number;
}

export class LlHlsPackager {
  readonly #options: PackagerOptions;
  readonly #log: FastifyBaseLogger;
  readonly #now: () => number;
  readonly #gapMs: number;
  readonly #waiters = new UpdateWaiters();
  #run: Run | undefined;
  #inits = new Map<string, Buffer>();
  /** Complete segments still downloadable, oldest first; the last `listSize` are listed. */
  #segments: Segment[] = [];
  #nextMsn = 0;
  #discontinuitySequence = 0;
  /** The highest media sequence number that left the listing. */
  #unlistedThrough = -1;
  #partsMade = 0;
  #gaps = 0;
  #model: PlaylistModel | undefined;
  /** PART-TARGET, seconds: HLS_PART_MS, or decided from the first frame's duration. */
  #partTarget: number | undefined;
  #rendered = new Map<string, string>();

  constructor(options: PackagerOptions) {
    this.#options = { ...options, listSize: Math.max(3, options.listSize) };
    this.#log = options.logger.child({ component: 'llhls' });
    this.#now = options.now ?? Date.now;
    this.#gapMs = options.gapMs ?? 500;
    this.#partTarget = options.partTarget;
  }

  /** PART-TARGET, seconds; until the first frame decides it (unless configured), the aim. */
  get partTarget(): number {
    return this.#partTarget ?? AIM_SECONDS;
  }

  get targetDuration(): number {
    return this.#options.targetDuration;
  }

  /** Starts a run for a new segmenter; the open segment of the previous run is closed first. */
  beginRun(streamId: string, { discontinuity = false } = {}): void {
    this.#closeRun();
    const reader = new Fmp4Reader({
      onInit: (init) => this.#onInit(run, init),
      onFragment: (fragment) => this.#onFragment(run, fragment),
    });
    const run: Run = {
      streamId,
      reader,
      discontinuity: discontinuity && this.#segments.length > 0,
      frames: [],
      partTicks: 0,
      partIndependent: false,
      lastFrameTicks: 0,
      segmentsMade: 0,
      startPhase: this.#options.quickStart ?? true,
      cutEarly: false,
      warnedLongGop: false,
      leastLagMs: Infinity,
    };
    this.#run = run;
  }

  /** Bytes from the segmenter of `streamId`; ignored once another run began. Throws on non-fMP4 input. */
  push(streamId: string, chunk: Buffer): void {
    if (this.#run?.streamId !== streamId) return;
    this.#run.reader.push(chunk);
  }

  /** The current run has listed at least one part. */
  hasParts(streamId: string): boolean {
    const run = this.#run;
    if (run?.streamId !== streamId) return false;
    return (run.open?.parts.length ?? 0) > 0 || run.segmentsMade > 0;
  }

  /** The current run has a complete segment in the playlist. */
  hasSegment(streamId: string): boolean {
    const run = this.#run;
    return run?.streamId === streamId && run.segmentsMade > 0;
  }

  /**
   * Resolves once the run of `streamId` has a complete segment listed; rejects with `signal.reason`
   * on abort. Not the first part: hls.js (1.7) loads nothing from a playlist of parts alone and then
   * waits a whole target duration before it reloads. The run's first segment is its first part
   * (see #endPart), so this is as soon as one part is made.
   */
  async waitUntilPlayable(streamId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const result = await this.#waiters.waitUntil(
      () => (this.hasSegment(streamId) ? { ok: true, value: undefined } : undefined),
      signal,
      2 ** 31 - 1,
    );
    if (!result.ok) throw signal.reason ?? new Error(`no segment from ${streamId}: ${result.reason}`);
  }

  /** Removes everything (a stop). Media sequence numbers keep counting, so caches never mix streams. */
  clear(): void {
    this.#run = undefined;
    this.#segments = [];
    this.#inits.clear();
    this.#discontinuitySequence = 0;
    // The next stream may come from another camera, at another frame rate.
    this.#partTarget = this.#options.partTarget;
    this.#changed();
  }

  stats(): PackagerStats {
    let bytesHeld = 0;
    let partsHeld = 0;
    for (const init of this.#inits.values()) bytesHeld += init.length;
    const all = this.#run?.open ? [...this.#segments, this.#run.open] : this.#segments;
    for (const segment of all) {
      partsHeld += segment.parts.length;
      if (segment.bytes) bytesHeld += segment.bytes.length;
      else for (const part of segment.parts) bytesHeld += part.bytes.length;
    }
    for (const frame of this.#run?.frames ?? []) bytesHeld += frame.length;
    return {
      bytesHeld,
      segmentsHeld: this.#segments.length,
      partsHeld,
      partsMade: this.#partsMade,
      gaps: this.#gaps,
      waiting: this.#waiters.waiting,
    };
  }

  /** The playlist model; undefined until a part exists. */
  model(): PlaylistModel | undefined {
    this.#model ??= this.#buildModel();
    return this.#model;
  }

  /** The playlist text (delta update with `skip`); undefined until a part exists. */
  playlist({ skip = false } = {}): string | undefined {
    const model = this.model();
    if (!model) return undefined;
    const key = skip ? 'skip' : 'full';
    let text = this.#rendered.get(key);
    if (text === undefined) {
      text = renderPlaylist(model, { skip });
      this.#rendered.set(key, text);
    }
    return text;
  }

  /** Init segment, part or segment bytes by name; undefined if unknown (or not made yet). */
  resource(name: string): Buffer | undefined {
    const init = this.#inits.get(name);
    if (init) return init;
    const parsed = parseMediaName(name);
    if (!parsed) return undefined;
    const segment = this.#findSegment(parsed.streamId, parsed.msn);
    if (!segment) return undefined;
    if (parsed.part === undefined) return segment.bytes;
    if (segment.partsReleased) return undefined;
    return segment.parts[parsed.part]?.bytes;
  }

  /**
   * Waits (no polling: woken by each new part) for a blocking playlist request (§6.2.5.2) to be
   * answerable. 'too-far' at once for requests beyond the limits.
   */
  async waitForPlaylist(
    msn: number,
    part: number | undefined,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<WaitResult<void> | { ok: false; reason: 'too-far' }> {
    const verdict = (): BlockingVerdict | 'gone' => {
      const model = this.model();
      return model ? judgeBlockingRequest(model, msn, part) : 'gone';
    };
    const first = verdict();
    if (first === 'too-far') return { ok: false, reason: 'too-far' };
    return this.#waiters.waitUntil(
      () => {
        const now = verdict();
        if (now === 'ready') return { ok: true, value: undefined };
        if (now === 'gone') return { ok: false, reason: 'gone' };
        return undefined; // 'wait', or 'too-far' meanwhile (it cannot get further away)
      },
      signal,
      timeoutMs,
    );
  }

  /**
   * A part that is not there yet: waits if it is the next part to be made (what EXT-X-PRELOAD-HINT
   * names, §6.2.6), until it exists; 'gone' if the packager made another part instead.
   */
  async waitForResource(name: string, signal: AbortSignal, timeoutMs: number): Promise<WaitResult<Buffer>> {
    const found = this.resource(name);
    if (found) return { ok: true, value: found };
    const parsed = parseMediaName(name);
    if (!parsed || parsed.part === undefined || !this.#isNextPart(parsed.streamId, parsed.msn, parsed.part)) {
      return { ok: false, reason: 'gone' };
    }
    return this.#waiters.waitUntil(
      () => {
        const bytes = this.resource(name);
        if (bytes) return { ok: true, value: bytes };
        if (!this.#isNextPart(parsed.streamId, parsed.msn, parsed.part!))
          return { ok: false, reason: 'gone' };
        return undefined;
      },
      signal,
      timeoutMs,
    );
  }

  #isNextPart(streamId: string, msn: number, part: number): boolean {
    const run = this.#run;
    if (!run || run.streamId !== streamId) return false;
    const open = run.open;
    if (open) {
      if (msn === open.msn) return part === open.parts.length;
      return msn === open.msn + 1 && part === 0;
    }
    // Between the run's start and its first frame: part 0 of the next segment.
    return msn === this.#nextMsn && part === 0;
  }

  #changed(): void {
    this.#model = undefined;
    this.#rendered.clear();
    this.#waiters.notify();
  }

  #findSegment(streamId: string, msn: number): Segment | undefined {
    const open = this.#run?.open;
    if (open && open.msn === msn && open.run.streamId === streamId) return open;
    return this.#segments.find((segment) => segment.msn === msn && segment.run.streamId === streamId);
  }

  #onInit(run: Run, init: InitSegment): void {
    if (run.init) {
      this.#log.warn({ streamId: run.streamId }, 'a second init segment in one run: ignored');
      return;
    }
    const name = initName(run.streamId);
    run.init = { ...init, name };
    this.#inits.set(name, init.bytes);
  }

  #onFragment(run: Run, fragment: Fragment): void {
    if (this.#run !== run || !run.init) return;
    const { timescale } = run.init;
    const now = this.#now();
    const gapTicks = Math.max((this.#gapMs / 1000) * timescale, 4 * run.lastFrameTicks);
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
    if (run.anchor && (run.open || run.cutEarly)) {
      // How far the wall clock is ahead of the media since the anchor. It stays level while the
      // camera streams; it grows when delivery paused but the timestamps did not jump (a restarted
      // encoder, whose timestamps ffmpeg makes continuous, or a stopped one).
      const lagMs =
        now - run.anchor.wallMs - ((fragment.decodeTime - run.anchor.decodeTime) / timescale) * 1000;
      run.leastLagMs = Math.min(run.leastLagMs, lagMs);
      if (fragment.keyframe && lagMs - run.leastLagMs > this.#gapMs) {
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
      this.#openSegment(run, fragment.decodeTime, { discontinuity: this.#segments.length > 0 });
    }
    this.#addFrame(run, fragment, now);
  }

  /** Ends the segment at a gap in the camera's stream; the next keyframe opens one after a discontinuity. */
  #interrupt(run: Run, reason: string): void {
    this.#closePart(run);
    this.#closeSegment(run);
    run.interrupted = { reason, atMs: this.#now(), dropped: 0 };
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
      // A stream starts on a keyframe; after a segment cut short at its start it goes on as it is.
      if (!fragment.keyframe && !run.cutEarly) return;
      if (fragment.keyframe && run.segmentsMade >= 2) run.startPhase = false;
      run.cutEarly = false;
      run.anchor ??= { decodeTime: fragment.decodeTime, wallMs: now };
      this.#openSegment(run, fragment.decodeTime);
    } else if (
      fragment.keyframe &&
      !run.startPhase &&
      (open.duration + run.partTicks >= segmentTicks - frameTicks / 2 || !this.#startsIndependent(run, open))
    ) {
      // A keyframe once the segment (its parts and the frames of the part being filled) is long
      // enough, or ending one that began between keyframes (after a cut): the next segment starts here.
      this.#closePart(run);
      this.#closeSegment(run);
      run.startPhase = false;
      this.#openSegment(run, fragment.decodeTime);
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
      this.#openSegment(run, fragment.decodeTime);
    } else if (run.partTicks + ticks > partTicks) {
      this.#endPart(run); // this frame would overrun PART-TARGET
      if (!run.open) {
        run.cutEarly = false;
        this.#openSegment(run, fragment.decodeTime);
      }
    }

    if (run.frames.length === 0) run.partIndependent = fragment.keyframe;
    run.frames.push(fragment.bytes);
    run.partTicks += ticks;
    run.lastFrameTicks = frameTicks;
    // Eager: publish the part now if the next frame would not fit, rather than when it arrives.
    if (run.partTicks + frameTicks > partTicks) this.#endPart(run);
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
    if (run.open && run.startPhase && run.open.parts.length > 0) {
      this.#closeSegment(run);
      run.cutEarly = true;
    }
  }

  /**
   * The segment begins on a keyframe: its first part, or the part being filled if it has none yet;
   * an empty one begins with the frame that comes.
   */
  #startsIndependent(run: Run, segment: Segment): boolean {
    if (segment.parts.length > 0) return segment.independent;
    return run.frames.length === 0 || run.partIndependent;
  }

  #openSegment(run: Run, decodeTime: number, { discontinuity = false } = {}): Segment {
    const { timescale } = run.init!;
    const anchor = run.anchor!;
    const first = run.segmentsMade === 0;
    const segment: Segment = {
      msn: this.#nextMsn,
      run,
      discontinuity: discontinuity || (first && run.discontinuity),
      programDateTime: anchor.wallMs + ((decodeTime - anchor.decodeTime) / timescale) * 1000,
      parts: [],
      // Only the stream's very first segment: a restarted run's comes after listed parts.
      partsListable: !(first && this.#segments.length === 0 && run.startPhase),
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
    releaseOldParts(this.#segments, this.#options.targetDuration);
    // A part that also ends its segment is published with the segment, in one update.
    if (!(run.startPhase && open.parts.length > 0)) this.#changed();
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
    this.#segments.push(open);
    run.segmentsMade += 1;
    this.#trim();
    this.#changed();
  }

  /** Ends the current run: its last frames become a final part, its open segment a complete one. */
  #closeRun(): void {
    const run = this.#run;
    if (!run) return;
    this.#closePart(run);
    this.#closeSegment(run);
    this.#run = undefined;
  }

  /**
   * Segments leave the listing (#listedFrom), stay downloadable for `listSize` more (§6.2.2: a
   * player may have fetched the playlist just before), then are dropped with their init segment.
   */
  #trim(): void {
    const { listSize } = this.#options;
    const listedFrom = listedFrom_(this.#segments, listSize, this.#options.targetDuration);
    // EXT-X-DISCONTINUITY-SEQUENCE counts the discontinuities that left the listing (§6.2.2).
    for (const segment of this.#segments.slice(0, listedFrom)) {
      if (segment.msn <= this.#unlistedThrough) continue;
      if (segment.discontinuity) this.#discontinuitySequence += 1;
      this.#unlistedThrough = segment.msn;
    }
    for (let drop = listedFrom - listSize; drop > 0; drop -= 1) {
      const dropped = this.#segments.shift()!;
      const stillUsed =
        this.#run?.streamId === dropped.run.streamId ||
        this.#segments.some((segment) => segment.run.streamId === dropped.run.streamId);
      if (!stillUsed) this.#inits.delete(initName(dropped.run.streamId));
    }
  }

  #buildModel(): PlaylistModel | undefined {
    const run = this.#run;
    const { listSize, targetDuration } = this.#options;
    const listed = this.#segments.slice(listedFrom_(this.#segments, listSize, targetDuration));
    const open = run?.open && run.open.parts.length > 0 && run.open.partsListable ? run.open : undefined;
    if (listed.length === 0 && !open) return undefined;
    const segments = listedEntries(listed, open ? segmentSeconds(open) : 0, targetDuration);
    return {
      targetDuration: this.#options.targetDuration,
      partTarget: this.partTarget,
      discontinuitySequence: this.#discontinuitySequence,
      segments,
      open: open ? segmentEntry(open, true) : undefined,
      preloadHint: run ? this.#preloadHint(run) : undefined,
    };
  }

  /** The part most likely next: part 0 of the next segment once this one is long enough, else the next index. */
  #preloadHint(run: Run): string {
    const open = run.open;
    // A run that has made no segment yet (a restarted segmenter): part 0 of the next segment, as
    // #isNextPart has it. The playlist still lists parts, so it must still hint the next one.
    if (!open) return partName(run.streamId, this.#nextMsn, 0);
    const { timescale } = run.init!;
    const segmentTicks = this.#options.targetDuration * timescale;
    if (run.frames.length === 0 && open.duration >= segmentTicks - run.lastFrameTicks / 2) {
      return partName(run.streamId, open.msn + 1, 0);
    }
    return partName(run.streamId, open.msn, open.parts.length);
  }
}
