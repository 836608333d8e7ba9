/**
 * What every way of watching a camera receives: one typed interface, fed by the camera's fan-out
 * (fanout.ts) from the one ingest. The remuxer (ingest/remuxer.ts) turns the camera's MPEG-TS into
 * fragmented MP4, one fragment per frame; the media reader (ingest/media-reader.ts) parses it once
 * per camera and hands the same objects to every output. An output never parses, never copies for
 * the others, and never talks to the stream manager but through `PlayableOutput`.
 *
 * Per run (one remuxer process): `begin` (when it is spawned), `init` (once ffmpeg has probed the
 * input), then `frame`s, with `gap`s where the camera's video paused, then `end`. A restarted remuxer's run begins with `init` again, `restart: true` (its timestamps
 * start over: a discontinuity). `clear` ends the stream: before a start and after a stop.
 *
 * A method may return a promise (file I/O): the fan-out then holds that output's next deliveries in
 * its own bounded queue (queued.ts) until it settles. A throw or a rejection is contained there.
 */
import type { HlsMode } from '../config.js';
import type { Fragment, InitSegment } from '../ingest/fmp4.js';

/** A run: one remuxer process. */
export interface MediaRun {
  /** Unique per remuxer process (names.ts newStreamId). */
  readonly streamId: string;
  /** A remuxer replaced while live: timestamps start over, the stream goes on after a discontinuity. */
  readonly restart: boolean;
}

/** The codec's init segment (ftyp + moov), once per run. */
export interface MediaInit extends InitSegment, MediaRun {}

/**
 * One frame: a moof + mdat pair, its decode time and duration in the init's timescale, and whether it
 * is a keyframe. The bytes are shared by every output: read them, never write them.
 */
export type MediaFrame = Fragment;

/** The camera's video stopped for a while (INPUT_SILENCE_MS), or frames were dropped for this output. */
export interface MediaGap {
  readonly reason: string;
}

/** The run is over (its remuxer stopped or was replaced). */
export interface MediaEnd {
  readonly streamId: string;
}

/** What may come back from a delivery: nothing (done), or a promise (busy until it settles). */
export type Delivery = void | Promise<void>;

export interface Output {
  /** For logs and metrics (`output` label): `ll-hls`, `plain-hls`… */
  readonly name: string;
  /** A run begins (its media follows, from `init`); optional: most outputs need only `init`. */
  begin?(run: MediaRun): Delivery;
  init(init: MediaInit): Delivery;
  frame(frame: MediaFrame): Delivery;
  gap(gap: MediaGap): Delivery;
  end(end: MediaEnd): Delivery;
  /** Removes everything the output holds or wrote: before a start, after a stop. */
  clear(): Promise<void>;
  /** Shutdown, first step: answer held requests now (no new media will come). */
  refuseNewWork?(): void;
}

/** An output the stream manager waits for: a start answers once its first media is listed. */
export interface PlayableOutput extends Output {
  /** What /api/stream reports as `hlsMode`. */
  readonly mode: HlsMode;
  /** Resolves once the run's first playable media is listed; rejects with `signal.reason` on abort. */
  waitUntilPlayable(streamId: string, signal: AbortSignal): Promise<void>;
}
