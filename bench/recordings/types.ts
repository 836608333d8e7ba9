/** What `npm run bench:recordings` measures and writes to samples.json. */
import type { MachineInfo } from '../lib/machine.js';
import type { CameraKind, RecordingsOptions } from './options.js';

/** The phases of one camera's run, in order: the stream live throughout, recording only in `on`. */
export const PHASES = ['warmup', 'off-before', 'on', 'off-after'] as const;
export type Phase = (typeof PHASES)[number];

/** One reading of the service, about every second. */
export interface Sample {
  /** Seconds since this camera's run began. */
  readonly t: number;
  readonly phase: Phase;
  /** The service's Node process: utime + stime (clock ticks), VmRSS (kB), bytes passed to write() (all fds). */
  readonly serviceTicks: number;
  readonly serviceRssKb: number;
  readonly serviceWchar: number;
  /** The camera's remuxer (the service's ffmpeg child), when it runs. */
  readonly remuxerTicks?: number;
  /** Bytes in RECORD_DIR. */
  readonly diskBytes: number;
}

/** A segment of the recording: when it ended, when its closing keyframe arrived, when its file was written. */
export interface SegmentWrite {
  readonly name: string;
  readonly bytes: number;
  /** Its end: EXT-X-PROGRAM-DATE-TIME + EXTINF (ms since the epoch), when its closing keyframe came. */
  readonly endMs: number;
  /** When its closing keyframe's first datagram reached the service (the keyframe tap's clock). */
  readonly keyframeMs: number | undefined;
  /** The last change inotify reported for its file (ms since the epoch); undefined: not seen. */
  readonly writtenMs: number | undefined;
  /** Closed by the end of the recording rather than by a keyframe. */
  readonly last: boolean;
}

export interface CameraRun {
  readonly camera: CameraKind;
  readonly samples: Sample[];
  /** Each phase's span, seconds since the run began. */
  readonly phases: { phase: Phase; from: number; to: number }[];
  readonly recording?: {
    readonly id: string;
    /** Seconds of video, as listed. */
    readonly duration: number;
    /** Bytes in its folder (the playlist, init segments and segments). */
    readonly bytes: number;
    /** Files in its folder (playlist, init segments, segments). */
    readonly files: number;
    readonly segments: SegmentWrite[];
  };
  /** Each MP4 download: ms from the request to the last byte, and its size. */
  readonly downloads: { ms: number; bytes: number }[];
  /** ffprobe's duration of the MP4. */
  readonly mp4Seconds?: number;
  readonly errors: string[];
}

export interface RecordingsRun {
  readonly startedAt: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly options: RecordingsOptions;
  readonly cameras: CameraRun[];
  failure?: string;
}
