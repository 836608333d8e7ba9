/**
 * What the page measures with `?stats=1`, exposed on `window.__camstreamStats` for the benchmark
 * (bench/ reads it through the browser): keep this shape stable.
 */
export interface LatencySample {
  /** Epoch ms the frame was displayed. */
  at: number;
  /** Display time minus the capture time stamped in the frame. */
  latencyMs: number;
  /** How the frame came: WebRTC or HLS (absent before the page said). */
  transport?: 'webrtc' | 'hls';
}

/** WebRTC's own figures (RTCPeerConnection.getStats, the inbound video stream). */
export interface WebRtcFigures {
  /** The jitter buffer's average delay per frame, ms (jitterBufferDelay / jitterBufferEmittedCount). */
  jitterBufferMs?: number;
  framesDecoded?: number;
  framesDropped?: number;
  packetsLost?: number;
  packetsReceived?: number;
}

export interface CamstreamStats {
  /** What the large view plays now: 'webrtc' or 'hls' (absent until a player started). */
  transport?: 'webrtc' | 'hls';
  /** With WebRTC: its figures, refreshed about once a second. */
  webrtc?: WebRtcFigures;
  /** Glass-to-glass samples, one per displayed frame whose stamp was read; a ring of the last 20000. */
  samples: LatencySample[];
  /** Epoch ms when the user pressed Start (the click handler), reset on each Start. */
  startClickedAt?: number;
  /** Epoch ms of the first displayed frame after the last Start (or after load in player-only mode). */
  firstFrameAt?: number;
  /** Epoch ms the start request answered 200. */
  startAnsweredAt?: number;
  /** 'waiting' events after the first frame. */
  stalls: number;
  /** Total time spent waiting. */
  stallMs: number;
  /** Frames whose stamp could not be read. */
  unreadFrames: number;
  hlsLatency?: number;
  bufferSeconds?: number;
  bitrate?: number;
  droppedFrames?: number;
  totalFrames?: number;
}

declare global {
  interface Window {
    /** Present when the page was opened with `?stats=1` (or `?src=`). */
    __camstreamStats?: CamstreamStats;
  }
}
