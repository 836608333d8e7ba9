/** The pure side of the stats: the sample ring, what the overlay shows, and how it reads. */
import type { CamstreamStats, LatencySample } from './types';

export const SAMPLE_LIMIT = 20_000;
/** The overlay's glass-to-glass figure: the median of the samples displayed in this last stretch. */
export const RECENT_WINDOW_MS = 1_000;

export function createStats(): CamstreamStats {
  return { samples: [], stalls: 0, stallMs: 0, unreadFrames: 0 };
}

/** Appends a sample, dropping the oldest beyond `limit`: memory stays flat for hours. */
export function addSample(samples: LatencySample[], sample: LatencySample, limit = SAMPLE_LIMIT): void {
  samples.push(sample);
  while (samples.length > limit) samples.shift();
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median latency of the samples displayed within `windowMs` before `now` (epoch ms). */
export function recentLatency(
  samples: readonly LatencySample[],
  now: number,
  windowMs = RECENT_WINDOW_MS,
): number | undefined {
  const recent: number[] = [];
  for (let i = samples.length - 1; i >= 0 && samples[i]!.at >= now - windowMs; i--) {
    recent.push(samples[i]!.latencyMs);
  }
  return median(recent);
}

/** Seconds buffered ahead of `currentTime`, in the buffered range that holds it (0 when none does). */
export function bufferAhead(ranges: readonly (readonly [number, number])[], currentTime: number): number {
  for (const [start, end] of ranges) if (currentTime >= start && currentTime <= end) return end - currentTime;
  return 0;
}

/** Bits per second of the media in the last loaded segments. */
export function mediaBitrate(loaded: readonly { bytes: number; seconds: number }[]): number | undefined {
  let bytes = 0;
  let seconds = 0;
  for (const item of loaded) {
    bytes += item.bytes;
    seconds += item.seconds;
  }
  return seconds > 0 ? (8 * bytes) / seconds : undefined;
}

export interface StatsRow {
  label: string;
  value: string;
}

const seconds = (value: number | undefined, digits = 2) =>
  value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(digits)} s`;

function bitrate(bps: number | undefined): string {
  if (bps === undefined || !Number.isFinite(bps) || bps <= 0) return '–';
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mb/s` : `${Math.round(bps / 1e3)} kb/s`;
}

const count = (value: number | undefined) => (value === undefined ? '–' : String(value));

/** The overlay's rows, from the stats at `now` (epoch ms): hls.js's figures or WebRTC's. */
export function formatStats(stats: CamstreamStats, now: number): StatsRow[] {
  const glass = recentLatency(stats.samples, now);
  const dropped =
    stats.droppedFrames === undefined ? '–' : `${stats.droppedFrames} of ${stats.totalFrames ?? '?'}`;
  const common = {
    glass: { label: 'Glass to glass', value: seconds(glass === undefined ? undefined : glass / 1000) },
    stalls: { label: 'Stalls', value: `${stats.stalls} (${seconds(stats.stallMs / 1000, 1)})` },
    unread: { label: 'Unread stamps', value: String(stats.unreadFrames) },
  };
  if (stats.transport === 'webrtc') {
    const rtc = stats.webrtc ?? {};
    const jitter = rtc.jitterBufferMs;
    return [
      { label: 'Transport', value: 'WebRTC' },
      common.glass,
      { label: 'Jitter buffer', value: jitter === undefined ? '–' : `${Math.round(jitter)} ms` },
      { label: 'Decoded', value: count(rtc.framesDecoded) },
      { label: 'Dropped', value: count(rtc.framesDropped) },
      { label: 'Packets lost', value: count(rtc.packetsLost) },
      common.stalls,
      common.unread,
    ];
  }
  return [
    ...(stats.transport === 'hls' ? [{ label: 'Transport', value: 'HLS' }] : []),
    common.glass,
    { label: 'hls.js latency', value: seconds(stats.hlsLatency) },
    { label: 'Buffer', value: seconds(stats.bufferSeconds) },
    { label: 'Bitrate', value: bitrate(stats.bitrate) },
    { label: 'Dropped', value: dropped },
    common.stalls,
    common.unread,
  ];
}
