/** From raw measurements to the LL-HLS figures: parts, the start path, the packager's memory. Pure. */
import type { PackagerSample } from '../lib/metrics.js';
import { mean, median, summarize, type Summary } from '../lib/stats.js';
import type { ColdStart, SystemRun, ViewerRun } from '../lib/types.js';
import type { Decomposition } from './analysis.js';

/** A part placed in time: its frames' capture span (from its segment's stamp) and when it was listed. */
export interface PlacedPart {
  msn: number;
  index: number;
  /** Epoch ms: its first frame captured; its end (first frame + duration: the next frame's capture). */
  start: number;
  end: number;
  listedAt: number;
  duration: number;
}

/**
 * Each part's capture span: its segment's first-frame stamp plus the durations of the parts before it.
 * Segments whose parts were not all seen from part 0 are left out.
 */
export function placeParts(run: SystemRun): PlacedPart[] {
  const parts = run.steady.parts ?? [];
  const placed: PlacedPart[] = [];
  for (const segment of run.steady.segments) {
    if (segment.capturedAt === undefined) continue;
    const own = parts.filter((p) => p.msn === segment.seq).sort((a, b) => a.index - b.index);
    if (own.length === 0 || own.some((p, i) => p.index !== i)) continue;
    let start = segment.capturedAt;
    for (const part of own) {
      const end = start + part.duration * 1000;
      placed.push({
        msn: part.msn,
        index: part.index,
        start,
        end,
        listedAt: part.listedAt,
        duration: part.duration,
      });
      start = end;
    }
  }
  return placed.sort((a, b) => a.start - b.start);
}

/**
 * Each displayed frame's glass-to-glass time split with the part that carried it: waiting for the part
 * to end (capture → the part's end), the packager (→ the part listed: the blocking reload for it
 * answered), the player (listed → on screen). Means, so the three add up.
 */
export function decomposeParts(run: SystemRun, viewer: ViewerRun = run.steady): Decomposition {
  const parts = placeParts(run);
  const total: number[] = [];
  const wait: number[] = [];
  const packager: number[] = [];
  const player: number[] = [];
  for (const sample of viewer.samples) {
    const captured = sample.at - sample.latencyMs;
    // Half a frame of slack: stamps and durations are rounded to the millisecond.
    const part = parts.find((p) => captured >= p.start - 17 && captured < p.end - 17);
    if (!part) continue;
    total.push(sample.latencyMs);
    wait.push(Math.max(0, part.end - captured));
    packager.push(part.listedAt - part.end);
    player.push(sample.at - part.listedAt);
  }
  return {
    frames: total.length,
    ...(total.length > 0 && {
      glassToGlass: mean(total),
      segmentWait: mean(wait),
      packager: mean(packager),
      player: mean(player),
    }),
  };
}

export interface PartFigures {
  partTarget?: number;
  partHoldBack?: number;
  holdBack?: number;
  /** Every part seen. */
  count: number;
  /** Part durations, ms. */
  duration: Summary;
  /** Parts per complete segment. */
  perSegment: Summary;
  /** Parts with INDEPENDENT=YES (a keyframe first). */
  independent: number;
  /** Parts placed by a stamp. */
  placed: number;
  /** The part's end (its last frame + one frame) → listed, ms. */
  availability: Summary;
  /** A complete segment's end (its next keyframe captured) → the segment listed, ms. */
  segmentAvailability: Summary;
  /** Playlist reads per second of the window (the bench's own: its blocking reloads). */
  readsPerSecond?: number;
}

export function partFigures(run: SystemRun): PartFigures {
  const { steady } = run;
  const parts = steady.parts ?? [];
  const placed = placeParts(run);
  const complete = steady.segments
    .map((s) => parts.filter((p) => p.msn === s.seq).length)
    .filter((n) => n > 0);
  const stamped = steady.segments.filter((s) => s.capturedAt !== undefined);
  const windowSec = (steady.endedAt - (parts[0]?.listedAt ?? steady.firstFrameAt)) / 1000;
  return {
    ...(steady.partTarget !== undefined && { partTarget: steady.partTarget }),
    ...(steady.partHoldBack !== undefined && { partHoldBack: steady.partHoldBack }),
    ...(steady.holdBack !== undefined && { holdBack: steady.holdBack }),
    count: parts.length,
    duration: summarize(parts.map((p) => p.duration * 1000)),
    perSegment: summarize(complete),
    independent: parts.filter((p) => p.independent).length,
    placed: placed.length,
    availability: summarize(placed.map((p) => p.listedAt - p.end)),
    segmentAvailability: summarize(stamped.map((s) => s.listedAt - (s.capturedAt! + s.duration * 1000))),
    ...(steady.playlistReads !== undefined &&
      windowSec > 0 && { readsPerSecond: steady.playlistReads / windowSec }),
  };
}

/** The LL-HLS start path, ms (medians and p95 over the cold starts). */
export interface LowLatencyStart {
  toFirstPart: Summary;
  /** First datagram → the first part listed. */
  datagramToFirstPart: Summary;
  firstPart: Summary;
  /** First datagram → the first complete segment listed. */
  datagramToFirstSegment: Summary;
  /** The first complete segment listed → the next segment's first part listed (what a part-blocking player waits for). */
  firstSegmentToPartAfter: Summary;
  /** The first complete segment listed → first frame (hls.js needs one before it starts). */
  firstSegmentToFirstFrame: Summary;
  /** The first part listed → first frame. */
  firstPartToFirstFrame: Summary;
}

const pick = (starts: ColdStart[], f: (s: ColdStart) => number | undefined) =>
  summarize(starts.map(f).filter((v): v is number => v !== undefined));
const minus = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b;

export function lowLatencyStart(starts: ColdStart[]): LowLatencyStart {
  return {
    toFirstPart: pick(starts, (s) => s.toFirstPart),
    datagramToFirstPart: pick(starts, (s) => minus(s.toFirstPart, s.toFirstDatagram)),
    firstPart: pick(starts, (s) => s.firstPartMs),
    datagramToFirstSegment: pick(starts, (s) => minus(s.toPlaylistFile, s.toFirstDatagram)),
    firstSegmentToPartAfter: pick(starts, (s) => minus(s.toPartAfterFirstSegment, s.toPlaylistFile)),
    firstSegmentToFirstFrame: pick(starts, (s) => minus(s.toFirstFrame, s.toPlaylistFile)),
    firstPartToFirstFrame: pick(starts, (s) => minus(s.toFirstFrame, s.toFirstPart)),
  };
}

export interface PackagerFigures {
  samples: number;
  bytesHeld: Summary;
  /** The last sample's bytes held (the window's end: the playlist long full). */
  lastBytesHeld?: number;
  /** Complete segments the playlist listed, and their bytes, at the samples. */
  listedSegments: Summary;
  listedBytes: Summary;
  /** bytes held ÷ bytes of the listed segments, per sample. */
  heldPerListed: Summary;
  segmentsHeld: Summary;
  partsHeld: Summary;
  waitingRequests: Summary;
  /** Parts made per second over the window. */
  partsPerSecond?: number;
  /** Segment sizes (bytes, without the init segment). */
  segmentBytes: Summary;
}

export function packagerFigures(run: SystemRun): PackagerFigures | undefined {
  const samples = run.packager;
  if (!samples || samples.length === 0) return undefined;
  const values = (f: (s: PackagerSample) => number | undefined) =>
    summarize(samples.map(f).filter((v): v is number => v !== undefined));
  const first = samples.find((s) => s.partsMade !== undefined);
  const last = samples.findLast((s) => s.partsMade !== undefined);
  const seconds = first && last ? (last.at - first.at) / 1000 : 0;
  return {
    samples: samples.length,
    bytesHeld: values((s) => s.bytesHeld),
    ...(samples.at(-1)?.bytesHeld !== undefined && { lastBytesHeld: samples.at(-1)!.bytesHeld }),
    listedSegments: values((s) => s.listedSegments),
    listedBytes: values((s) => s.listedBytes),
    heldPerListed: values((s) =>
      s.bytesHeld !== undefined && s.listedBytes ? s.bytesHeld / s.listedBytes : undefined,
    ),
    segmentsHeld: values((s) => s.segmentsHeld),
    partsHeld: values((s) => s.partsHeld),
    waitingRequests: values((s) => s.waitingRequests),
    ...(seconds > 0 && { partsPerSecond: (last!.partsMade! - first!.partsMade!) / seconds }),
    segmentBytes: summarize(
      run.steady.segments.map((s) => s.bytes).filter((v): v is number => v !== undefined),
    ),
  };
}

/** The median of a role's CPU and RSS series, by the start of its name (e.g. 'web service'). */
export function roleFigures(
  run: SystemRun,
  prefix: string,
): { role: string; cpuMean?: number; cpuMedian?: number; rssMedian?: number; rssMax?: number } | undefined {
  const entry = Object.entries(run.resources).find(([role]) => role.startsWith(prefix));
  if (!entry) return undefined;
  const [role, series] = entry;
  const rss = summarize(series.rssMiB);
  return {
    role,
    ...(series.cpuPercent.length > 0 && {
      cpuMean: mean(series.cpuPercent),
      cpuMedian: median(series.cpuPercent),
    }),
    ...(rss.median !== undefined && { rssMedian: rss.median, rssMax: rss.max }),
  };
}
