/**
 * Collects the page's playback stats (`?stats=1`): glass-to-glass latency read off each displayed
 * frame's capture-time stamp (on any <video>: HLS or WebRTC), hls.js's or WebRTC's (getStats) and
 * the video element's own figures. The per-frame work
 * stays out of React; the overlay is told a few times a second.
 */
import Hls, { type FragLoadedData } from 'hls.js';
import { readStamp, stampGeometry, stampToEpochMs } from '@camstream/protocol';
import { addSample, bufferAhead, createStats, mediaBitrate } from './reduce';
import type { CamstreamStats, WebRtcFigures } from './types';

/** How often the slower figures (buffer, hls.js latency, bitrate, drops) are refreshed. */
export const REFRESH_MS = 250;
/** How often WebRTC's getStats is read (it is not free). */
const PEER_STATS_MS = 1_000;
/** Segments (or parts) the bitrate is averaged over. */
const BITRATE_WINDOW = 5;

export class StatsCollector {
  readonly stats: CamstreamStats = createStats();
  readonly #listeners = new Set<() => void>();
  readonly #timer: ReturnType<typeof setInterval>;
  #video: HTMLVideoElement | null = null;
  #hls: Hls | null = null;
  #loaded: { bytes: number; seconds: number }[] = [];
  /** performance.now() when the current stall began. */
  #waitingSince: number | undefined;
  #completedStallMs = 0;
  #context: CanvasRenderingContext2D | null | undefined;
  #peer: RTCPeerConnection | null = null;
  #lastPeerStatsAt = -Infinity;

  constructor(target: Window) {
    target.__camstreamStats = this.stats;
    this.#timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  /** Called from the Start button's click handler: a new start-up to time. */
  startClicked(): void {
    this.stats.startClickedAt = Date.now();
    this.stats.firstFrameAt = undefined;
    this.stats.startAnsweredAt = undefined;
  }

  /** The start request answered 200. */
  startAnswered(): void {
    this.stats.startAnsweredAt = Date.now();
  }

  /** Measures `video` until the returned function is called. */
  attachVideo(video: HTMLVideoElement): () => void {
    this.#video = video;
    let handle: number | undefined;
    const onFrame: VideoFrameRequestCallback = (_now, metadata) => {
      this.#onFrame(video, metadata);
      handle = video.requestVideoFrameCallback(onFrame);
    };
    // Without requestVideoFrameCallback (older Firefox) only the other figures are collected.
    if ('requestVideoFrameCallback' in video) handle = video.requestVideoFrameCallback(onFrame);
    const onWaiting = () => this.#stallBegins();
    const onPlaying = () => this.#stallEnds();
    video.addEventListener('waiting', onWaiting);
    video.addEventListener('playing', onPlaying);
    return () => {
      if (handle !== undefined) video.cancelVideoFrameCallback(handle);
      video.removeEventListener('waiting', onWaiting);
      video.removeEventListener('playing', onPlaying);
      this.#stallEnds();
      if (this.#video === video) this.#video = null;
    };
  }

  /** The current hls.js instance (a new one after each rebuild), or null. */
  attachHls(hls: Hls | null): void {
    this.#hls?.off(Hls.Events.FRAG_LOADED, this.#onFragLoaded);
    this.#hls = hls;
    this.#loaded = [];
    hls?.on(Hls.Events.FRAG_LOADED, this.#onFragLoaded);
  }

  /** What plays now; samples from here on are marked with it. */
  setTransport(transport: 'webrtc' | 'hls'): void {
    this.stats.transport = transport;
    if (transport === 'hls') this.stats.webrtc = undefined;
  }

  /** The current WebRTC peer connection, or null. */
  attachPeer(peer: RTCPeerConnection | null): void {
    this.#peer = peer;
    this.#lastPeerStatsAt = -Infinity;
  }

  /** Calls `listener` after each refresh; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  refresh(): void {
    const { stats } = this;
    const video = this.#video;
    const hls = this.#hls;
    // hls.js reports 0 until it knows the live edge.
    stats.hlsLatency = hls && hls.latency > 0 ? hls.latency : undefined;
    const level = hls ? hls.levels[hls.currentLevel] : undefined;
    stats.bitrate = mediaBitrate(this.#loaded) ?? (level?.bitrate || undefined);
    if (video) {
      const ranges: [number, number][] = [];
      for (let i = 0; i < video.buffered.length; i++)
        ranges.push([video.buffered.start(i), video.buffered.end(i)]);
      stats.bufferSeconds = ranges.length > 0 ? bufferAhead(ranges, video.currentTime) : undefined;
      const quality = video.getVideoPlaybackQuality?.();
      stats.droppedFrames = quality?.droppedVideoFrames;
      stats.totalFrames = quality?.totalVideoFrames;
    }
    const peer = this.#peer;
    if (peer && performance.now() - this.#lastPeerStatsAt >= PEER_STATS_MS) {
      this.#lastPeerStatsAt = performance.now();
      peer
        .getStats()
        .then((report) => {
          if (this.#peer === peer) stats.webrtc = webrtcFigures(report);
        })
        .catch(() => undefined);
    }
    const ongoing = this.#waitingSince === undefined ? 0 : performance.now() - this.#waitingSince;
    stats.stallMs = this.#completedStallMs + ongoing;
    for (const listener of this.#listeners) listener();
  }

  close(): void {
    clearInterval(this.#timer);
    this.attachHls(null);
    this.#listeners.clear();
  }

  readonly #onFragLoaded = (_event: string, data: FragLoadedData) => {
    const piece = data.part ?? data.frag;
    this.#loaded.push({ bytes: piece.stats.loaded, seconds: piece.duration });
    if (this.#loaded.length > BITRATE_WINDOW) this.#loaded.shift();
  };

  #onFrame(video: HTMLVideoElement, metadata: VideoFrameCallbackMetadata): void {
    // Epoch ms on the page's monotonic clock: timeOrigin is fixed at load, so over a long run this
    // may drift from Date.now() by whatever the system clock was slewed meanwhile.
    const at = performance.timeOrigin + metadata.expectedDisplayTime;
    this.#stallEnds();
    this.stats.firstFrameAt ??= at;
    const value = this.#readStamp(video, metadata.width, metadata.height);
    if (value === undefined) {
      this.stats.unreadFrames++;
      return;
    }
    const sample = { at, latencyMs: at - stampToEpochMs(value, Date.now()) };
    const { transport } = this.stats;
    addSample(this.stats.samples, transport === undefined ? sample : { ...sample, transport });
  }

  /** Draws the top of the frame (the stamp's band) into a small canvas and reads the stamp there. */
  #readStamp(video: HTMLVideoElement, width: number, height: number): number | undefined {
    const rows = Math.ceil(stampGeometry(width).height);
    if (width <= 0 || rows <= 0 || rows > height) return undefined;
    if (this.#context === undefined) {
      this.#context = document.createElement('canvas').getContext('2d', { willReadFrequently: true });
    }
    const context = this.#context;
    if (!context) return undefined;
    const { canvas } = context;
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== rows) canvas.height = rows;
    let data: Uint8ClampedArray;
    try {
      context.drawImage(video, 0, 0, width, rows, 0, 0, width, rows);
      data = context.getImageData(0, 0, width, rows).data;
    } catch {
      return undefined; // a cross-origin video played natively taints the canvas
    }
    const luma = (x: number, y: number) => {
      const i = (y * width + x) * 4;
      return 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
    };
    return readStamp(luma, width, height);
  }

  #stallBegins(): void {
    // Only a stall after the picture appeared counts: waiting for the first frame is start-up.
    if (this.stats.firstFrameAt === undefined || this.#waitingSince !== undefined) return;
    this.stats.stalls++;
    this.#waitingSince = performance.now();
  }

  #stallEnds(): void {
    if (this.#waitingSince === undefined) return;
    this.#completedStallMs += performance.now() - this.#waitingSince;
    this.#waitingSince = undefined;
    this.stats.stallMs = this.#completedStallMs;
  }
}

/** The inbound video stream's figures in a getStats report. */
function webrtcFigures(report: RTCStatsReport): WebRtcFigures {
  let figures: WebRtcFigures = {};
  report.forEach((entry: RTCInboundRtpStreamStats & { kind?: string; type: string }) => {
    if (entry.type !== 'inbound-rtp' || entry.kind !== 'video') return;
    const emitted = entry.jitterBufferEmittedCount ?? 0;
    figures = {
      jitterBufferMs:
        emitted > 0 && entry.jitterBufferDelay !== undefined
          ? (1000 * entry.jitterBufferDelay) / emitted
          : undefined,
      framesDecoded: entry.framesDecoded,
      framesDropped: entry.framesDropped,
      packetsLost: entry.packetsLost,
      packetsReceived: entry.packetsReceived,
    };
  });
  return figures;
}
