/** What `npm run bench:cameras` records: samples.json holds a CamerasRun. */
import type { MachineInfo } from '../lib/machine.js';
import type { ResourceSeries } from '../lib/resources.js';
import type { CamerasOptions } from './options.js';

/** One `POST /api/cameras/<id>/start`, request → answer. */
export interface StartTiming {
  cameraId: string;
  /** `alone`: one camera at a time (those before it stay live); `together`: every camera at once. */
  mode: 'alone' | 'together';
  round: number;
  /** Epoch ms of the request. */
  at: number;
  ms: number;
  /**
   * Request → the camera's first frame (the `at` of its `streaming` status): the camera's part of
   * `ms` (the command over MQTT, its encoder starting); the rest is the service's (its ingest, the
   * segmenter, the first playable playlist).
   */
  cameraMs?: number;
  /**
   * Request → the camera's `starting` status (it publishes that as the command arrives): the
   * service's command over MQTT, the first part of `cameraMs`; the rest is its encoder starting.
   */
  commandMs?: number;
  /** 200 with `{"state": "live"}`. */
  ok: boolean;
  status?: number;
  error?: string;
}

/** Stopping every camera of the step at once, request → the last answer. */
export interface StopTiming {
  round: number;
  after: 'alone' | 'together';
  ms: number;
  ok: boolean;
}

/** One camera's playlist during the window: blocking reloads of the next part, as an LL-HLS player asks. */
export interface PlaylistCheck {
  cameraId: string;
  /** Reloads answered 200 with a newer part than the one before. */
  advances: number;
  /** Reloads that failed: not 200, no answer within the time limit, or no newer part. */
  errors: number;
  /** The longest time between two advances, ms. */
  longestGapMs: number;
  /** The first few errors, for the report. */
  errorMessages: string[];
}

/** The role names of the window's resource series, besides one per camera's segmenter. */
export const SERVICE = 'service';
export const ENCODERS = 'encoders';
export const segmenterRole = (cameraId: string) => `segmenter ${cameraId}`;

export interface StepRun {
  /** The baseline: a service from before many cameras (`--baseline`), not ours. */
  baseline?: true;
  /** The routes used: the per-camera API, or the first contract's. */
  routes?: string;
  cameras: number;
  cameraIds: string[];
  /** The service with every camera known and idle, a few seconds before the first start. */
  idle: Record<string, ResourceSeries>;
  starts: StartTiming[];
  stops: StopTiming[];
  /** Every camera live at once: the service, each segmenter, the cameras' encoders, the whole machine. */
  window: { durationSec: number; resources: Record<string, ResourceSeries> };
  playlists: PlaylistCheck[];
  /** Private memory (USS, MiB) of the service and of each segmenter at the window's end, by role. */
  privateMiB: Record<string, number>;
  /** Segmenters the service started in this step, per camera (one per start; more: a restart). */
  segmenterStarts: Record<string, number>;
  /** Segmenters started while the window ran (a restart: none expected). */
  segmenterRestartsInWindow: number;
  /** Cameras not `live` in /api/cameras when the window ended. */
  notLiveAtEnd: string[];
  /** Anything else that went wrong, in words. */
  errors: string[];
  /** 1-minute load average when the window began. */
  load1: number;
}

export interface CamerasRun {
  startedAt: string;
  command: string;
  options: CamerasOptions;
  machine: MachineInfo;
  /** The command lines of a camera's encoder and of a segmenter. */
  commands: Record<string, string>;
  steps: StepRun[];
  failure?: string;
}
