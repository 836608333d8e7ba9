/** What one system's measurement produces: the raw material of samples.json and the report. */
import type { PackagerSample } from './metrics.js';
import type { MediaEvent, PlaybackSeries } from './page.js';
import type { PartRecord } from './playlist-watcher.js';
import type { ResourceSeries } from './resources.js';
import type { StampedSegment } from './segment-stamps.js';

/**
 * ours: the service's default, LL-HLS, fed by our agent; ours-foreign: the same, fed by a camera that
 * is not ours (plain ffmpeg, test/helpers/foreign-camera.ts); ours-plain: HLS_MODE=plain.
 */
export const SYSTEM_NAMES = ['ours', 'ours-foreign', 'ours-plain', 'peer'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

/** What sends the stream: our agent (its early keyframe, flushed datagrams) or the foreign camera. */
export type CameraKind = 'agent' | 'foreign';

/** A page's displayed frames from its first one on, for the "settled" figure. */
export interface SettleObservation {
  /** Epoch ms the observation ended (the bench read the page's samples then). */
  until: number;
  /** Every displayed frame from the first one to `until` (display time, glass-to-glass). */
  samples: { at: number; latencyMs: number }[];
}

/** One cold start: every figure in ms from the start (ours: the click; the peer: the start command). */
export interface ColdStart {
  cycle: number;
  /** Epoch ms of the start. */
  startAt: number;
  /** ours: the start request answered 200; the peer: nginx's playlist lists a segment. */
  toManifest?: number;
  /**
   * The playlist lists a complete segment: plain HLS, the file on disk (polled every 20 ms); LL-HLS,
   * over HTTP (blocking reloads).
   */
  toPlaylistFile?: number;
  /** LL-HLS: the playlist lists the first part (polled over HTTP every 20 ms until it exists). */
  toFirstPart?: number;
  /** LL-HLS: the first part's duration, ms. */
  firstPartMs?: number;
  /**
   * LL-HLS: the part after the first complete segment listed: a player that blocks for the next part,
   * as hls.js does, learns that the first segment is complete only then.
   */
  toPartAfterFirstSegment?: number;
  /** The first frame on screen (the page's firstFrameAt). */
  toFirstFrame?: number;
  /** The agent's encoder sent its first datagram (the `at` of its `streaming` status). */
  toFirstDatagram?: number;
  /** The segmenter (ours) or the remuxer (the peer) finished probing its input. */
  toProbed?: number;
  /** EXTINF of the first segment listed, ms. */
  firstSegmentMs?: number;
  /** The peer only: opening the player page (navigation until its load event). */
  pageLoad?: number;
  /** The frames shown from the first one on, for the "settled" figure (older results: none). */
  settle?: SettleObservation;
}

/** One player page's playback over (part of) the steady window. */
export interface ViewerRun {
  /** Epoch ms of the viewer's first frame and of the end of the window. */
  firstFrameAt: number;
  endedAt: number;
  samples: PlaybackSeries['samples'];
  player: PlaybackSeries['player'];
  /** The page's own count: every 'waiting' event after its first frame, and their total time. */
  stalls?: number;
  stallMs?: number;
  unreadFrames?: number;
  droppedFrames?: number;
  totalFrames?: number;
  /** The video element's events as the bench saw them (waiting, playing, seeking, …), for the stalls. */
  mediaEvents?: MediaEvent[];
}

/** A second, fresh page opened on the already-live stream during the steady window. */
export interface LateJoinerRun extends ViewerRun {
  /** Epoch ms the bench began opening the page (navigation start). */
  joinAt: number;
  /** The first viewer's first frame → the join, ms (what the bench aimed for). */
  joinDelayMs: number;
}

export interface SteadyRun extends ViewerRun {
  targetDuration?: number;
  /** LL-HLS: EXT-X-PART-INF PART-TARGET and EXT-X-SERVER-CONTROL's hold-backs, s. */
  partTarget?: number;
  partHoldBack?: number;
  holdBack?: number;
  segments: StampedSegment[];
  /** LL-HLS: every part listed in the steady window, when first listed. */
  parts?: PartRecord[];
  /** Playlist reads that returned a playlist (LL-HLS: mostly blocking reloads). */
  playlistReads?: number;
  lateJoiner?: LateJoinerRun;
}

export interface SystemRun {
  system: SystemName;
  /** ours only: how the service packaged (older results without it were plain HLS). */
  hlsMode?: 'll' | 'plain';
  /** What sent the stream (older results without it: our agent). */
  camera?: CameraKind;
  title: string;
  coldStarts: ColdStart[];
  /** ours only: POST /api/stream/start → 200, ms, with no browser involved. */
  apiStarts?: number[];
  steady: SteadyRun;
  /** Per role, sampled every second during the steady window. */
  resources: Record<string, ResourceSeries>;
  /** ours in LL-HLS: the packager's /metrics, sampled every second during the steady window. */
  packager?: PackagerSample[];
  /** The command lines that ran (encoder, segmenter or remuxer). */
  commands: Record<string, string>;
  /** Notes for the report (what was measured differently and why). */
  notes: string[];
}
