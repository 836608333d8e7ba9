/**
 * Recordings as an output of the camera's fan-out: the same fMP4 fragments every output gets from
 * the one ingest (no second encode, no second ffmpeg reading the camera), written to disk as fMP4
 * segments cut at keyframes, with each run's init segment and a playlist rewritten after each
 * segment (playlist.ts): a crash leaves a playable recording. A recording begins at the first
 * keyframe once wanted (RECORD=always, or a start with `"record": true`), and ends at a stop, at
 * `"record": false`, or after RECORD_MAX_SECONDS (an hour; the next one begins at once), so retention
 * can delete the oldest hours of a stream that never stops. Its `opened` event names each recording
 * once its folder exists and the one before it is closed (VOD): the camera passes that on, so a client
 * learns of a cut without polling.
 *
 * Frames are gathered in memory (no copy) and written when their segment ends: a delivery that ends
 * a segment returns the write, and the fan-out holds this output's next frames until it is done.
 */
import { EventEmitter } from 'node:events';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { endOfPause } from '../pause.js';
import type { Delivery, MediaFrame, MediaInit, Output } from '../output.js';
import { RECORDING_PLAYLIST, renderRecordingPlaylist, type RecordedSegment } from './playlist.js';
import { MAX_RECORDING_MS, type RecordMode } from './settings.js';
import { recordingName } from './ids.js';
import type { RecordingEntry, RecordingStore } from './store.js';

/** A segment ends at the first keyframe after about this long. */
export const RECORDING_SEGMENT_SECONDS = 4;

export interface RecordingOutputOptions {
  readonly cameraId: string;
  readonly mode: RecordMode;
  readonly store: RecordingStore;
  readonly logger: FastifyBaseLogger;
  /** A frame lasting this long (and at least four frames) is a gap. Default 500. */
  readonly gapMs?: number;
  readonly segmentSeconds?: number;
  readonly maxRecordingMs?: number;
  /** Wall clock, ms (tests). */
  readonly now?: () => number;
}

interface Run {
  readonly streamId: string;
  readonly init: Buffer;
  readonly timescale: number;
  /** Its init segment's name in the current recording, once written there. */
  initName?: string;
  anchor?: { readonly decodeTime: number; readonly wallMs: number };
  lastFrameTicks: number;
}

interface Current {
  readonly entry: RecordingEntry;
  readonly segments: RecordedSegment[];
  inits: number;
  /** The next segment follows a discontinuity (a gap, a restarted remuxer). */
  discontinuity: boolean;
}

interface OpenSegment {
  readonly programDateTime: number;
  readonly frames: Buffer[];
  ticks: number;
}

export class RecordingOutput extends EventEmitter<{ opened: [id: string] }> implements Output {
  readonly name = 'recordings';
  readonly #options: RecordingOutputOptions;
  readonly #log: FastifyBaseLogger;
  readonly #now: () => number;
  #wanted: boolean;
  #nextWanted: boolean | undefined;
  #run: Run | undefined;
  #current: Current | undefined;
  #open: OpenSegment | undefined;
  #awaitingKeyframe = true;
  /** File writes, in order: each waits for the one before. */
  #io: Promise<void> = Promise.resolve();
  /** The recording being written, as last announced (`opened`); undefined once it is closed. */
  #openedId: string | undefined;

  constructor(options: RecordingOutputOptions) {
    super();
    this.#options = options;
    this.#log = options.logger.child({ output: 'recordings' });
    this.#now = options.now ?? Date.now;
    this.#wanted = options.mode === 'always';
  }

  get mode(): RecordMode {
    return this.#options.mode;
  }

  /** Recording now, or will be at the stream's next keyframe. */
  get recording(): boolean {
    return this.#wanted;
  }

  /** The id of the recording being written, once announced; a new one after each cut. */
  get currentId(): string | undefined {
    return this.#openedId;
  }

  /**
   * `"record": true` or false in a start (RECORD=on-demand; always records whatever it is told). Off:
   * the recording ends now with what it has; on: one begins at the next keyframe.
   */
  want(on: boolean): Promise<void> {
    if (this.#options.mode === 'always') return this.#io;
    this.#wanted = on;
    // For the stream a start is about to begin, whose `clear` comes first; forgotten once media comes.
    this.#nextWanted = on;
    if (!on) return this.#finish();
    return this.#io;
  }

  init(init: MediaInit): Delivery {
    this.#nextWanted = undefined;
    const written = this.#closeSegment(); // a run that ended without `end`: its writes come first
    this.#run = { streamId: init.streamId, init: init.bytes, timescale: init.timescale, lastFrameTicks: 0 };
    this.#awaitingKeyframe = true;
    if (this.#current) this.#current.discontinuity = true;
    return written;
  }

  frame(frame: MediaFrame): Delivery {
    const run = this.#run;
    if (!run) return;
    const pause = endOfPause(frame, run, this.#options.gapMs);
    if (pause) {
      const added = pause.ordinary ? this.#add(run, pause.ordinary) : undefined;
      return this.gap() ?? added;
    }
    return this.#add(run, frame);
  }

  /** The camera's video stopped (or frames were dropped): the segment ends, the next follows a discontinuity. */
  gap(): Delivery {
    const written = this.#closeSegment();
    this.#awaitingKeyframe = true;
    if (this.#current) this.#current.discontinuity = true;
    if (this.#run) this.#run.anchor = undefined;
    return written;
  }

  end(): Delivery {
    return this.#closeSegment();
  }

  /** A stop (or before a start): the recording ends; on demand, the next stream records only if asked. */
  async clear(): Promise<void> {
    await this.#finish();
    this.#run = undefined;
    this.#awaitingKeyframe = true;
    this.#wanted = this.#nextWanted ?? this.#options.mode === 'always';
    this.#nextWanted = undefined;
  }

  /** Shutdown: what is recorded stays, closed (VOD, EXT-X-ENDLIST). */
  refuseNewWork(): void {
    void this.#finish();
  }

  #add(run: Run, frame: MediaFrame): Delivery {
    this.#nextWanted = undefined;
    if (!this.#wanted) return;
    const frameTicks = frame.duration > 0 ? frame.duration : run.lastFrameTicks;
    let written: Delivery = undefined;
    const open = this.#open;
    if (this.#awaitingKeyframe || !open) {
      if (!frame.keyframe) return;
      this.#awaitingKeyframe = false;
      written = this.#openSegment(run, frame);
    } else if (frame.keyframe && open.ticks >= this.#segmentTicks(run) - frameTicks / 2) {
      written = this.#closeSegment();
      const current = this.#current;
      const maxMs = this.#options.maxRecordingMs ?? MAX_RECORDING_MS;
      if (current && this.#now() - current.entry.startMs >= maxMs) {
        written = this.#finish();
        this.#awaitingKeyframe = false; // this keyframe begins the next one
      }
      written = this.#openSegment(run, frame) ?? written;
    }
    this.#open!.frames.push(frame.bytes);
    this.#open!.ticks += frame.duration;
    run.lastFrameTicks = frameTicks;
    return written;
  }

  #segmentTicks(run: Run): number {
    return (this.#options.segmentSeconds ?? RECORDING_SEGMENT_SECONDS) * run.timescale;
  }

  /** Opens a segment at a keyframe, and a recording first if none is open. */
  #openSegment(run: Run, frame: MediaFrame): Promise<void> | undefined {
    run.anchor ??= { decodeTime: frame.decodeTime, wallMs: this.#now() };
    const programDateTime =
      run.anchor.wallMs + ((frame.decodeTime - run.anchor.decodeTime) / run.timescale) * 1000;
    this.#open = { programDateTime, frames: [], ticks: 0 };
    let written: Promise<void> | undefined;
    if (!this.#current) {
      const { cameraId, store } = this.#options;
      const startMs = Math.round(programDateTime);
      const { date, time, id } = recordingName(cameraId, startMs);
      const dir = store.folderOf(cameraId, date, time);
      const entry: RecordingEntry = {
        id,
        cameraId,
        startMs,
        endMs: startMs,
        duration: 0,
        bytes: 0,
        recording: true,
        dir,
      };
      this.#current = { entry, segments: [], inits: 0, discontinuity: false };
      run.initName = undefined;
      this.#log.info({ id, dir }, 'recording');
      // Announced after the writes before it: at a cut, the recording before is closed by then.
      written = this.#enqueue(async () => {
        await mkdir(dir, { recursive: true });
        this.#openedId = id;
        this.emit('opened', id);
      });
    }
    if (run.initName === undefined) {
      const current = this.#current;
      const name = `init-${current.inits++}.mp4`;
      run.initName = name;
      const bytes = run.init;
      written = this.#enqueue(() => this.#write(current, name, bytes));
    }
    return written;
  }

  /** Ends the open segment: written, then listed in the playlist. */
  #closeSegment(): Promise<void> | undefined {
    const open = this.#open;
    const run = this.#run;
    const current = this.#current;
    this.#open = undefined;
    if (!open || !run || !current || open.frames.length === 0 || run.initName === undefined) return undefined;
    const segment: RecordedSegment = {
      name: `seg-${String(current.segments.length).padStart(5, '0')}.m4s`,
      duration: open.ticks / run.timescale,
      init: run.initName,
      discontinuity: current.discontinuity,
      programDateTime: open.programDateTime,
    };
    current.discontinuity = false;
    current.segments.push(segment);
    const bytes = open.frames.length === 1 ? open.frames[0]! : Buffer.concat(open.frames);
    return this.#enqueue(async () => {
      await this.#write(current, segment.name, bytes);
      const { entry } = current;
      entry.duration += segment.duration;
      entry.endMs = segment.programDateTime + segment.duration * 1000;
      await this.#writePlaylist(current, false);
      // Listed once it plays: its first segment and playlist are on disk.
      if (!this.#options.store.get(entry.id)) this.#options.store.add(entry);
    });
  }

  /** Ends the recording: its last segment written, its playlist VOD with EXT-X-ENDLIST. */
  #finish(): Promise<void> {
    this.#closeSegment();
    const current = this.#current;
    this.#current = undefined;
    this.#awaitingKeyframe = true;
    if (this.#run) this.#run.initName = undefined;
    if (!current) return this.#io;
    return this.#enqueue(async () => {
      const { entry } = current;
      if (this.#openedId === entry.id) this.#openedId = undefined;
      if (current.segments.length === 0) {
        await this.#options.store.discard(entry);
        return;
      }
      await this.#writePlaylist(current, true);
      entry.recording = false;
      this.#log.info(
        { id: entry.id, seconds: Number(entry.duration.toFixed(3)), bytes: entry.bytes },
        'recorded',
      );
    });
  }

  async #write(current: Current, name: string, bytes: Buffer): Promise<void> {
    await writeFile(join(current.entry.dir, name), bytes);
    current.entry.bytes += bytes.length;
  }

  async #writePlaylist(current: Current, ended: boolean): Promise<void> {
    const path = join(current.entry.dir, RECORDING_PLAYLIST);
    // Renamed into place: a player (or a crash) never meets half a playlist.
    await writeFile(`${path}.tmp`, renderRecordingPlaylist(current.segments, ended));
    await rename(`${path}.tmp`, path);
  }

  #enqueue(write: () => Promise<void>): Promise<void> {
    // A failed write is reported (through the fan-out) once; the writes after it still happen.
    this.#io = this.#io.catch(() => {}).then(write);
    return this.#io;
  }
}
