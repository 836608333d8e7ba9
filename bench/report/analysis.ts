/** From raw measurements to the report's figures. Pure. */
import { mean, median, summarize, type Summary } from '../lib/stats.js';
import type { ColdStart, SystemRun, ViewerRun } from '../lib/types.js';

export interface StartFigures {
  toManifest: Summary;
  toPlaylistFile: Summary;
  toFirstFrame: Summary;
  toFirstDatagram: Summary;
  /** First datagram → the receiving ffmpeg finished probing. */
  probe: Summary;
  /** First datagram → the playlist file lists a segment. */
  datagramToPlaylist: Summary;
  firstSegment: Summary;
  /** Manifest ready → first frame (the player's share; the peer's includes the page load). */
  manifestToFirstFrame: Summary;
  pageLoad: Summary;
}

const pick = (starts: ColdStart[], f: (s: ColdStart) => number | undefined) =>
  summarize(starts.map(f).filter((v): v is number => v !== undefined));
const minus = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b;

export function startFigures(starts: ColdStart[]): StartFigures {
  return {
    toManifest: pick(starts, (s) => s.toManifest),
    toPlaylistFile: pick(starts, (s) => s.toPlaylistFile),
    toFirstFrame: pick(starts, (s) => s.toFirstFrame),
    toFirstDatagram: pick(starts, (s) => s.toFirstDatagram),
    probe: pick(starts, (s) => minus(s.toProbed, s.toFirstDatagram)),
    datagramToPlaylist: pick(starts, (s) => minus(s.toPlaylistFile, s.toFirstDatagram)),
    firstSegment: pick(starts, (s) => s.firstSegmentMs),
    manifestToFirstFrame: pick(starts, (s) => minus(s.toFirstFrame, s.toManifest)),
    pageLoad: pick(starts, (s) => s.pageLoad),
  };
}

export interface SegmentFigures {
  targetDuration?: number;
  /** EXTINF, ms. */
  extinf: Summary;
  /** Segments whose first frame's stamp could be read. */
  stamped: number;
  /** The segment's end (its first frame + EXTINF: the next keyframe's capture) → listed, ms. */
  availability: Summary;
  /** Capture of a segment's first frame → the segment listed, ms. */
  ageWhenListed: Summary;
  /** EXT-X-PROGRAM-DATE-TIME − the first frame's stamp, ms (how far the PDT clock is off). */
  pdtOffset: Summary;
}

export function segmentFigures(run: SystemRun): SegmentFigures {
  const { segments, targetDuration } = run.steady;
  const stamped = segments.filter((s) => s.capturedAt !== undefined);
  return {
    ...(targetDuration !== undefined && { targetDuration }),
    extinf: summarize(segments.map((s) => s.duration * 1000)),
    stamped: stamped.length,
    availability: summarize(stamped.map((s) => s.listedAt - (s.capturedAt! + s.duration * 1000))),
    ageWhenListed: summarize(stamped.map((s) => s.listedAt - s.capturedAt!)),
    pdtOffset: summarize(
      stamped.filter((s) => s.programDateTime !== undefined).map((s) => s.programDateTime! - s.capturedAt!),
    ),
  };
}

/**
 * Each displayed frame's glass-to-glass time split in three, using the segment that carried it:
 * waiting for its segment to end (capture → the next keyframe, which closes the segment), the packager
 * (→ segment listed), the player (listed → on screen: playlist reload, fetch, hold-back, decode).
 * Means, so the three add up to the mean glass-to-glass of the frames that could be placed.
 */
export interface Decomposition {
  frames: number;
  glassToGlass?: number;
  segmentWait?: number;
  packager?: number;
  player?: number;
}

export function decompose(run: SystemRun, viewer: ViewerRun = run.steady): Decomposition {
  const segments = run.steady.segments
    .filter((s) => s.capturedAt !== undefined)
    .map((s) => ({ start: s.capturedAt!, end: s.capturedAt! + s.duration * 1000, listedAt: s.listedAt }))
    .sort((a, b) => a.start - b.start);
  const parts = {
    total: [] as number[],
    wait: [] as number[],
    packager: [] as number[],
    player: [] as number[],
  };
  for (const sample of viewer.samples) {
    const captured = sample.at - sample.latencyMs;
    // Half a frame of slack: stamps and EXTINF are rounded to the millisecond.
    const segment = segments.find((s) => captured >= s.start - 17 && captured < s.end - 17);
    if (!segment) continue;
    parts.total.push(sample.latencyMs);
    parts.wait.push(Math.max(0, segment.end - captured));
    parts.packager.push(segment.listedAt - segment.end);
    parts.player.push(sample.at - segment.listedAt);
  }
  return {
    frames: parts.total.length,
    ...(parts.total.length > 0 && {
      glassToGlass: mean(parts.total),
      segmentWait: mean(parts.wait),
      packager: mean(parts.packager),
      player: mean(parts.player),
    }),
  };
}

export interface PlayerFigures {
  /** hls.js's target latency (from the live edge), s. */
  targetLatency?: number;
  /** hls.js's measured distance from the live edge, s. */
  hlsLatency?: number;
  bufferSeconds?: number;
}

export function playerFigures(run: SystemRun, viewer: ViewerRun = run.steady): PlayerFigures {
  const values = (f: (p: ViewerRun['player'][number]) => number | undefined) =>
    viewer.player.map(f).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const result: PlayerFigures = {};
  const target = median(values((p) => p.targetLatency));
  const latency = median(values((p) => p.hlsLatency));
  const buffer = median(values((p) => p.bufferSeconds));
  if (target !== undefined) result.targetLatency = target;
  if (latency !== undefined) result.hlsLatency = latency;
  if (buffer !== undefined) result.bufferSeconds = buffer;
  return result;
}

export interface LatencyFigures {
  all: Summary;
  /** The second half of the window: after hls.js has settled on its target. */
  settled: Summary;
}

export function latencyFigures(viewer: ViewerRun): LatencyFigures {
  const { samples, firstFrameAt, endedAt } = viewer;
  const half = firstFrameAt + (endedAt - firstFrameAt) / 2;
  return {
    all: summarize(samples.map((s) => s.latencyMs)),
    settled: summarize(samples.filter((s) => s.at >= half).map((s) => s.latencyMs)),
  };
}

export interface ResourceFigures {
  role: string;
  /** The mean of the per-second values: total CPU time over the window (a tick is 1 % of a second). */
  cpuMean?: number;
  cpuMedian?: number;
  cpuMax?: number;
  rssMedian?: number;
  rssMax?: number;
}

export function resourceFigures(run: SystemRun): ResourceFigures[] {
  return Object.entries(run.resources).map(([role, series]) => {
    const cpu = summarize(series.cpuPercent);
    const rss = summarize(series.rssMiB);
    return {
      role,
      ...(cpu.median !== undefined && { cpuMean: cpu.mean!, cpuMedian: cpu.median, cpuMax: cpu.max! }),
      ...(rss.median !== undefined && { rssMedian: rss.median, rssMax: rss.max! }),
    };
  });
}

/** Stalls are counted from this long after a viewer's first frame (start-up settles before). */
export const STALL_GRACE_MS = 2000;

export interface Stall {
  /** ms since the viewer's first frame. */
  sinceFirstFrame: number;
  /** 'waiting' → the next 'playing' event or displayed frame, whichever came first, ms. */
  durationMs: number;
  /** Before STALL_GRACE_MS after the first frame: start-up, not counted. */
  startUp: boolean;
  /** The playhead (video.currentTime, s) and readyState when 'waiting' fired. */
  currentTime: number;
  readyState: number;
  /** The last displayed frame before the 'waiting' → the first after it, ms (≈33 at 30 fps: no visible freeze). */
  frameGapMs?: number;
}

/**
 * Each 'waiting' event of the video element after the viewer's first frame, from the bench's log of
 * its media events (undefined when the run has no log). A stall ends at the next 'playing' event or
 * displayed frame, as the page's own count has it.
 */
export function stallsOf(viewer: ViewerRun): Stall[] | undefined {
  const events = viewer.mediaEvents;
  if (!events) return undefined;
  const stalls: Stall[] = [];
  for (const [i, event] of events.entries()) {
    if (event.type !== 'waiting' || event.at < viewer.firstFrameAt || event.at > viewer.endedAt) continue;
    const playing = events.slice(i + 1).find((e) => e.type === 'playing')?.at ?? Infinity;
    const frame = viewer.samples.find((s) => s.at > event.at)?.at ?? Infinity;
    const end = Math.min(playing, frame, viewer.endedAt);
    const sinceFirstFrame = event.at - viewer.firstFrameAt;
    const before = viewer.samples.findLast((s) => s.at <= event.at)?.at;
    stalls.push({
      sinceFirstFrame,
      durationMs: Math.max(0, end - event.at),
      startUp: sinceFirstFrame < STALL_GRACE_MS,
      currentTime: event.currentTime,
      readyState: event.readyState,
      ...(before !== undefined && frame !== Infinity && { frameGapMs: frame - before }),
    });
  }
  return stalls;
}
