/**
 * Whether a series stays flat: the rule the report writes down. Pure.
 *
 * Over the steady period (after the warm-up) a series is judged two ways, each robust to the
 * sawtooth of garbage collection and to a few outliers:
 * - the Theil–Sen slope (the median of the slopes between every pair of points), times the steady
 *   period's length: how much the trend adds over the run (and, reported, per hour);
 * - the change from the median of the first 10 % of the steady samples (at least 3) to the median of
 *   the last 10 %.
 * It is "flat" when both stay within the series' tolerance, "grows" when either exceeds it upwards,
 * "falls" when either exceeds it downwards and neither upwards.
 */
import { median } from '../lib/stats.js';

export type Verdict = 'flat' | 'grows' | 'falls' | 'n/a';

/** How much a series may move over the steady period and still count as flat. */
export interface Tolerance {
  /** Absolute floor, in the series' unit. */
  floor: number;
  /** Relative part, of the start level (the first 10 %'s median); 0: absolute only. */
  relative: number;
  /** The rule in words, for the report. */
  text: string;
}

export interface Trend {
  /** Steady points judged. */
  count: number;
  /** Medians of the first and the last 10 % of the steady points. */
  start?: number;
  end?: number;
  min?: number;
  max?: number;
  /** Theil–Sen slope, per hour, and that slope times the steady period. */
  slopePerHour?: number;
  /** The fitted line's value at x = 0 (the median of y − slope·x), for the plot. */
  intercept?: number;
  trendOverRun?: number;
  /** The tolerance in the series' unit, for this run's start level. */
  allowed?: number;
  verdict: Verdict;
}

/** Above this many points the estimator uses every k-th: n² pairs would cost seconds per series. */
const MAX_POINTS = 600;

/** The Theil–Sen estimator: the median of the pairwise slopes (x in s, so the slope is per s). */
export function theilSen(all: readonly { x: number; y: number }[]): number | undefined {
  const step = Math.ceil(all.length / MAX_POINTS);
  const points = step > 1 ? all.filter((_, i) => i % step === 0) : all;
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dx = points[j]!.x - points[i]!.x;
      if (dx !== 0) slopes.push((points[j]!.y - points[i]!.y) / dx);
    }
  }
  return median(slopes);
}

/** The points at each end the start and end medians use: 10 %, but at least 3 (one sample is noise). */
export const edgeCount = (n: number) => Math.min(n, Math.max(3, Math.round(n / 10)));

/** Judges `points` (x: s since the first frame) after `warmupSec` against `tolerance`. */
export function judge(
  points: readonly { x: number; y: number }[],
  warmupSec: number,
  tolerance: Tolerance,
): Trend {
  const steady = points.filter((p) => p.x >= warmupSec && Number.isFinite(p.y));
  if (steady.length < 3) return { count: steady.length, verdict: 'n/a' };
  const ys = steady.map((p) => p.y);
  const edge = edgeCount(steady.length);
  const start = median(ys.slice(0, edge))!;
  const end = median(ys.slice(-edge))!;
  const slope = theilSen(steady)!;
  const span = steady.at(-1)!.x - steady[0]!.x;
  const trendOverRun = slope * span;
  const allowed = Math.max(tolerance.floor, tolerance.relative * Math.abs(start));
  const change = end - start;
  // A small margin keeps float noise (e.g. 4 MiB computed as 4.0000001) from deciding a verdict.
  const over = (value: number) => value > allowed * (1 + 1e-9);
  const verdict: Verdict =
    over(trendOverRun) || over(change) ? 'grows' : over(-trendOverRun) || over(-change) ? 'falls' : 'flat';
  return {
    count: steady.length,
    start,
    end,
    min: Math.min(...ys),
    max: Math.max(...ys),
    slopePerHour: slope * 3600,
    intercept: median(steady.map((p) => p.y - slope * p.x))!,
    trendOverRun,
    allowed,
    verdict,
  };
}
