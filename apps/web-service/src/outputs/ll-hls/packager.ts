/**
 * The Low-Latency HLS packager, the camera's first output (output.ts adapts it to the fan-out).
 * ffmpeg remuxes the camera's MPEG-TS to fragmented MP4 with one fragment per frame (no re-encode),
 * read once by the ingest; the cutter (cutter.ts) cuts those frames into parts of at most
 * PART-TARGET and segments of about HLS_SEGMENT_SECONDS that start on keyframes. This keeps them in
 * memory and answers for them: the playlist (full or delta), blocking reloads, parts, segments and
 * init segments.
 *
 * Memory is bounded by what the playlist references: the listed segments, as many again for players
 * that fetched the playlist just before one left it, and the parts of the last few segments.
 *
 * A "run" is one remuxer process. A restarted remuxer starts a new run: its first segment gets
 * EXT-X-DISCONTINUITY and its own init segment; media sequence numbers continue.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Fragment, InitSegment } from '../../ingest/fmp4.js';
import { Cutter } from './cutter.js';
import { buildModel, heldBytes } from './listing.js';
import { isNextPart, nextPartNames } from './next-part.js';
import {
  judgeBlockingRequest,
  RenderedPlaylists,
  type BlockingVerdict,
  type PlaylistModel,
} from './model.js';
import { initName, parseMediaName } from '../names.js';
import { UpdateWaiters, type Abandonable, type Held, type WaitResult } from './waiters.js';
import { heldMedia, listedFrom as listedFrom_, releaseOldParts, type Segment } from './segments.js';

export type { Abandonable, Held, WaitResult } from './waiters.js';

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
   * second keyframe every part is a segment of its own (Cutter#endPart), the first listed without
   * its part (#buildModel). False: the first segment, like every other, ends at a keyframe after
   * about `targetDuration` (a whole GOP before the first frame can be shown).
   */
  readonly quickStart?: boolean;
  /** Wall clock, ms (tests). */
  readonly now?: () => number;
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

const READY: WaitResult<void> = { ok: true, value: undefined };
const GONE = { ok: false, reason: 'gone' } as const;
// Every viewer at the live edge asks for the same next part: one check answers them all.
const PLAYLIST_KEY = 'playlist ';
const playlistKey = (msn: number, part: number | undefined) => `${PLAYLIST_KEY}${msn}.${part ?? ''}`;

export class LlHlsPackager {
  readonly #options: PackagerOptions;
  // Blocking reloads (small) are answered before the parts (large) when a part is made.
  readonly #waiters = new UpdateWaiters({ first: (key) => key.startsWith(PLAYLIST_KEY) });
  readonly #cutter: Cutter;
  #inits = new Map<string, Buffer>();
  /** Complete segments still downloadable, oldest first; the last `listSize` are listed. */
  #segments: Segment[] = [];
  #discontinuitySequence = 0;
  /** The highest media sequence number that left the listing. */
  #unlistedThrough = -1;
  #model: PlaylistModel | undefined;
  readonly #rendered = new RenderedPlaylists();
  readonly #watchers = new Set<() => void>();

  constructor(options: PackagerOptions) {
    this.#options = { ...options, listSize: Math.max(3, options.listSize) };
    this.#cutter = new Cutter({
      partTarget: options.partTarget,
      targetDuration: options.targetDuration,
      gapMs: options.gapMs ?? 500,
      quickStart: options.quickStart ?? true,
      log: options.logger.child({ component: 'llhls' }),
      now: options.now ?? Date.now,
      sink: {
        holdsSegments: () => this.#segments.length > 0,
        initMade: (name, bytes) => {
          this.#inits.set(name, bytes);
        },
        partMade: (publish) => {
          releaseOldParts(this.#segments, this.#options.targetDuration);
          if (publish) this.#changed();
        },
        segmentMade: (segment) => {
          this.#segments.push(segment);
          this.#trim();
          this.#changed();
        },
      },
    });
  }

  /** PART-TARGET, seconds; until the first frame decides it (unless configured), the aim. */
  get partTarget(): number {
    return this.#cutter.partTarget;
  }

  get targetDuration(): number {
    return this.#options.targetDuration;
  }

  /** How long a blocking reload or a hinted part is held: three target durations, ms. */
  get holdMs(): number {
    return 3 * this.targetDuration * 1000;
  }

  /** Starts a run for a new remuxer; the open segment of the previous run is closed first. */
  beginRun(streamId: string, { discontinuity = false } = {}): void {
    this.#cutter.beginRun(streamId, discontinuity);
  }

  /** The current run's init segment (from the ingest's media reader). */
  init(init: InitSegment): void {
    this.#cutter.init(init);
  }

  /** A frame of the current run; ignored after a stop. */
  frame(fragment: Fragment): void {
    this.#cutter.frame(fragment);
  }

  /** The current run has listed at least one part. */
  hasParts(streamId: string): boolean {
    const run = this.#cutter.run;
    if (run?.streamId !== streamId) return false;
    return (run.open?.parts.length ?? 0) > 0 || run.segmentsMade > 0;
  }

  /** The current run has a complete segment in the playlist. */
  hasSegment(streamId: string): boolean {
    const run = this.#cutter.run;
    return run?.streamId === streamId && run.segmentsMade > 0;
  }

  /**
   * Resolves once the run of `streamId` has a complete segment listed; rejects with `signal.reason`
   * on abort. Not the first part: hls.js (1.7) loads nothing from a playlist of parts alone and then
   * waits a whole target duration before it reloads. The run's first segment is its first part
   * (see Cutter#endPart), so this is as soon as one part is made.
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
    this.#cutter.clear(); // and PART-TARGET: the next stream may come from another camera
    this.#segments = [];
    this.#inits.clear();
    this.#discontinuitySequence = 0;
    this.#changed();
  }

  stats(): PackagerStats {
    return {
      ...heldBytes(this.#cutter, this.#segments, this.#inits.values()),
      segmentsHeld: this.#segments.length,
      partsMade: this.#cutter.partsMade,
      gaps: this.#cutter.gaps,
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
    return model && this.#rendered.text(model, skip);
  }

  /** The playlist as bytes: one Buffer per version and variant, the same for every answer. */
  playlistBytes({ skip = false } = {}): Buffer | undefined {
    const model = this.model();
    return model && this.#rendered.bytes(model, skip);
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

  /** Every init segment, part and segment held now, by name (egress/feed.ts mirrors them). */
  *resources(): Generator<[string, Buffer]> {
    yield* this.#inits;
    const open = this.#cutter.run?.open;
    yield* heldMedia(open ? [...this.#segments, open] : this.#segments);
  }

  /** The part names a request would be held for now (`isNextPart`). */
  nextParts(): string[] {
    return nextPartNames(this.#cutter);
  }

  /** `listener` is called on every update, before held requests are answered; returns what stops it. */
  watch(listener: () => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  /**
   * Waits (no polling: woken by each new part) for a blocking playlist request (§6.2.5.2) to be
   * answerable. 'too-far' at once for requests beyond the limits.
   */
  async waitForPlaylist(
    msn: number,
    part: number | undefined,
    signal: AbortSignal | Abandonable,
    timeoutMs: number,
  ): Promise<WaitResult<void> | { ok: false; reason: 'too-far' }> {
    if (this.#playlistVerdict(msn, part) === 'too-far') return { ok: false, reason: 'too-far' };
    return this.#waiters.waitUntil(this.#playlistCheck(msn, part), signal, timeoutMs, playlistKey(msn, part));
  }

  /**
   * `waitForPlaylist` without a promise (routes/hls-fast.ts): the verdict now (`too-far`, or the
   * result if there is one at once), or the request is held and `done(result, context)` called once
   * when it ends; `cancel` ends it early.
   */
  holdPlaylist<C>(
    msn: number,
    part: number | undefined,
    timeoutMs: number,
    done: (result: WaitResult<void>, context: C) => void,
    context: C,
  ): 'too-far' | WaitResult<void> | Held {
    if (this.#playlistVerdict(msn, part) === 'too-far') return 'too-far';
    return this.#waiters.hold(
      this.#playlistCheck(msn, part),
      timeoutMs,
      playlistKey(msn, part),
      done,
      context,
    );
  }

  /** Ends a request held by `holdPlaylist` or `holdResource` (`aborted`). */
  cancel(held: Held): void {
    this.#waiters.cancel(held);
  }

  #playlistVerdict(msn: number, part: number | undefined): BlockingVerdict | 'gone' {
    const model = this.model();
    return model ? judgeBlockingRequest(model, msn, part) : 'gone';
  }

  #playlistCheck(msn: number, part: number | undefined): () => WaitResult<void> | undefined {
    return () => {
      const now = this.#playlistVerdict(msn, part);
      if (now === 'ready') return READY;
      if (now === 'gone') return GONE;
      return undefined; // 'wait', or 'too-far' meanwhile (it cannot get further away)
    };
  }

  /**
   * A part that is not there yet: waits if it is the next part to be made (what EXT-X-PRELOAD-HINT
   * names, §6.2.6), until it exists; 'gone' if the packager made another part instead.
   */
  async waitForResource(
    name: string,
    signal: AbortSignal | Abandonable,
    timeoutMs: number,
  ): Promise<WaitResult<Buffer>> {
    const found = this.resource(name);
    if (found) return { ok: true, value: found };
    const check = this.#resourceCheck(name);
    if (!check) return GONE;
    return this.#waiters.waitUntil(check, signal, timeoutMs, `resource ${name}`);
  }

  /** `waitForResource` without a promise, as `holdPlaylist`. */
  holdResource<C>(
    name: string,
    timeoutMs: number,
    done: (result: WaitResult<Buffer>, context: C) => void,
    context: C,
  ): WaitResult<Buffer> | Held {
    const found = this.resource(name);
    if (found) return { ok: true, value: found };
    const check = this.#resourceCheck(name);
    if (!check) return GONE;
    return this.#waiters.hold(check, timeoutMs, `resource ${name}`, done, context);
  }

  /** What a wait for `name` checks on each update; undefined if it is not worth waiting for. */
  #resourceCheck(name: string): (() => WaitResult<Buffer> | undefined) | undefined {
    const parsed = parseMediaName(name);
    if (
      !parsed ||
      parsed.part === undefined ||
      !isNextPart(this.#cutter, parsed.streamId, parsed.msn, parsed.part)
    ) {
      return undefined;
    }
    return () => {
      const bytes = this.resource(name);
      if (bytes) return { ok: true, value: bytes };
      if (!isNextPart(this.#cutter, parsed.streamId, parsed.msn, parsed.part!)) return GONE;
      return undefined;
    };
  }

  #changed(): void {
    this.#model = undefined;
    this.#rendered.clear();
    for (const watcher of this.#watchers) watcher();
    this.#waiters.notify();
  }

  #findSegment(streamId: string, msn: number): Segment | undefined {
    const open = this.#cutter.run?.open;
    if (open && open.msn === msn && open.run.streamId === streamId) return open;
    return this.#segments.find((segment) => segment.msn === msn && segment.run.streamId === streamId);
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
        this.#cutter.run?.streamId === dropped.run.streamId ||
        this.#segments.some((segment) => segment.run.streamId === dropped.run.streamId);
      if (!stillUsed) this.#inits.delete(initName(dropped.run.streamId));
    }
  }

  #buildModel(): PlaylistModel | undefined {
    return buildModel(this.#cutter, this.#segments, {
      listSize: this.#options.listSize,
      targetDuration: this.#options.targetDuration,
      partTarget: this.partTarget,
      discontinuitySequence: this.#discontinuitySequence,
    });
  }
}
