/**
 * hls.js settings for this service's live stream: plain HLS, 1-second segments, one rendition,
 * video only, a playlist that may 404 for a moment right after the start. Pure: no DOM here.
 */
import type { HlsConfig, LoaderResponse, LoadPolicy, RetryConfig } from 'hls.js';

/**
 * hls.js's default `shouldRetry` gives up at once on any 4xx. Right after a start the playlist (and,
 * when a reload races ffmpeg's `delete_segments`, a segment) can 404 for a moment, so 404 and
 * 410 are retried too, within the policy's `maxNumRetry`. `retry` is hls.js's own verdict.
 */
export function retryMissing(
  retryConfig: RetryConfig | null | undefined,
  retryCount: number,
  _isTimeout: boolean,
  response: LoaderResponse | undefined,
  retry: boolean,
): boolean {
  if (retry) return true;
  const missing = response?.code === 404 || response?.code === 410;
  return missing && retryCount < (retryConfig?.maxNumRetry ?? 0);
}

function policy(
  maxTimeToFirstByteMs: number,
  maxLoadTimeMs: number,
  errorRetry: Omit<RetryConfig, 'shouldRetry'>,
): LoadPolicy {
  return {
    default: {
      maxTimeToFirstByteMs,
      maxLoadTimeMs,
      timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
      errorRetry: { ...errorRetry, shouldRetry: retryMissing },
    },
  };
}

export const LIVE_HLS_CONFIG: Partial<HlsConfig> = {
  // Hold back 1.35 s behind the live edge (hls.js's default is 3 target durations, 3 s here). A viewer
  // who pressed Start settles ~1.1 s behind the edge anyway (the first playlist has one segment); a
  // viewer who joins a live stream starts at this sync point, so this is what most viewers get. In the
  // bench (bench/results/latest: 120 s) neither stalled at 1.35 s; 1.2 s stalled in a trial run, and
  // 2 segments put joiners at 2.3-3.1 s. A stall adds `liveSyncOnStallIncrease` (1 s) to the target,
  // so a slow network backs off by itself.
  liveSyncDuration: 1.35,
  // Further behind than this (a background tab, a long stall) → seek back to the live sync point.
  liveMaxLatencyDuration: 6,
  // Drift back to the target latency by playing up to 1.5× (hls.js does this only in low-latency
  // mode, within one target duration of the target, with more than 1 s buffered).
  maxLiveSyncPlaybackRate: 1.5,
  // Harmless for plain HLS; needed to use EXT-X-PART and blocking reloads once the service writes LL-HLS.
  lowLatencyMode: true,
  // Live playback never seeks back: keep 4 s behind the playhead, so memory stays flat for hours.
  backBufferLength: 4,
  // Start fetching the first segment while the MediaSource is still being set up.
  startFragPrefetch: true,
  // Start as soon as the playlist lists one segment (the service reports live at that moment).
  initialLiveManifestSize: 1,
  // Loopback and LAN: a request that has not started answering within a few seconds is stuck.
  manifestLoadPolicy: policy(5_000, 10_000, { maxNumRetry: 6, retryDelayMs: 250, maxRetryDelayMs: 2_000 }),
  playlistLoadPolicy: policy(5_000, 10_000, { maxNumRetry: 6, retryDelayMs: 250, maxRetryDelayMs: 2_000 }),
  fragLoadPolicy: policy(5_000, 15_000, { maxNumRetry: 4, retryDelayMs: 250, maxRetryDelayMs: 2_000 }),
};

/**
 * Low-Latency HLS (the service's default): hls.js aims at the playlist's PART-HOLD-BACK (three parts,
 * 0.6 s with 200 ms parts) behind the live edge, loads parts as they are listed and waits on the
 * server with blocking playlist reloads. So no `liveSyncDuration` here: set, it would override the
 * server's hold-back.
 */
// hls.js refuses liveMaxLatencyDuration without liveSyncDuration: both go.
const {
  liveSyncDuration: _holdBack,
  liveMaxLatencyDuration: _maxLatency,
  ...SHARED_CONFIG
} = LIVE_HLS_CONFIG;

export const LL_HLS_CONFIG: Partial<HlsConfig> = {
  ...SHARED_CONFIG,
  // hls.js's own catch-up only acts with more than 1 s buffered, never the case 0.6 s behind the
  // edge; live-edge.ts does it instead, and the two must not fight over playbackRate.
  maxLiveSyncPlaybackRate: 1,
  // A stall makes hls.js aim this much further behind (default 1 s, more than the whole target).
  liveSyncOnStallIncrease: 0.2,
  lowLatencyMode: true,
};

/**
 * A grid tile: a recent picture, not the lowest delay. Whole segments only (no parts, no blocking
 * reloads: fewer requests, and a browser opens only 6 connections to the service), a short buffer,
 * ~2.5 s behind the edge. Right after a start it waits for three segments: from one, playing whole
 * segments stalls every second until the playlist is long enough.
 */
export const PREVIEW_HLS_CONFIG: Partial<HlsConfig> = {
  ...LIVE_HLS_CONFIG,
  lowLatencyMode: false,
  initialLiveManifestSize: 3,
  liveSyncDuration: 2.5,
  liveMaxLatencyDuration: 8,
  maxBufferLength: 4,
  backBufferLength: 2,
};

export function hlsConfigFor(lowLatency: boolean): Partial<HlsConfig> {
  return lowLatency ? LL_HLS_CONFIG : LIVE_HLS_CONFIG;
}

/** Delay before rebuilding the player after a fatal error: 1, 2, 4, 8, 8, … seconds. */
export function rebuildDelayMs(attempt: number): number {
  return Math.min(1_000 * 2 ** Math.max(0, attempt), 8_000);
}

/** Two fatal media errors closer than this: recoverMediaError() did not help, rebuild instead. */
export const MEDIA_RECOVERY_WINDOW_MS = 5_000;
