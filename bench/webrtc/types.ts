/** What the WebRTC systems' measurement produces (samples.json's `webrtc`). */
import type { ResourceSeries } from '../lib/resources.js';

/**
 * ours-webrtc: our service's WHEP output, fed by our agent; ours-webrtc-foreign: the same, fed by a
 * camera that is not ours (plain ffmpeg); janus: Janus's streaming plugin (RTP mountpoint) fed the
 * same datagrams as ours-webrtc, in the same run.
 */
export const WEBRTC_SYSTEM_NAMES = ['ours-webrtc', 'ours-webrtc-foreign', 'janus'] as const;
export type WebrtcSystemName = (typeof WEBRTC_SYSTEM_NAMES)[number];

/** One viewer's join: ms from the viewer's request (ours: the WHEP POST; Janus: its watch request). */
export interface WebrtcJoin {
  cycle: number;
  requestAt: number;
  /** The request → the answer the page applies (ours: 201 with the answer; Janus: its offer). */
  toAnswer: number;
  /** The request → the first frame on screen. */
  toFirstFrame: number;
  /**
   * The viewer's first step → the first frame: ours, from before the page makes its offer (and
   * gathers its candidates); Janus, from the watch request (the page answers within). Comparable.
   */
  fromBegin?: number;
}

/** Many werift viewers of one camera at once (ours only). */
export interface ViewerLoad {
  viewers: number;
  durationMs: number;
  /** Frames the camera sent meanwhile (fps × duration), for comparison. */
  framesExpected: number;
  /**
   * Per viewer: the frames the camera made between its first and last frame received (their RTP
   * timestamps' span at the camera's frame rate; older samples.json: absent), the frames received
   * (complete, by the marker bit), RTP packets lost (sequence gaps).
   */
  framesSent?: number[];
  framesReceived: number[];
  packetsLost: number[];
  /** The web service's CPU (% of one core) over the same length of time with no viewer, and with them. */
  serviceCpuIdle: number;
  serviceCpuLoaded: number;
}

export interface WebrtcRun {
  system: WebrtcSystemName;
  title: string;
  joins: WebrtcJoin[];
  /** The last viewer, held for the steady window. */
  steady: {
    firstFrameAt: number;
    endedAt: number;
    samples: { at: number; latencyMs: number }[];
    unreadFrames: number;
  };
  resources: Record<string, ResourceSeries>;
  load?: ViewerLoad;
  commands: Record<string, string>;
  notes: string[];
}
