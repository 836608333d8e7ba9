/**
 * The "settled" figure: how long after the start (ours: the click) the picture never again stops for
 * more than 250 ms (no gap between consecutive displayed frames above it) and every displayed frame
 * is under 1 s glass to glass, until the observation ends. Pure.
 */
import type { ColdStart, SettleObservation } from '../lib/types.js';

/** The longest gap between two displayed frames that is not a freeze a person sees. */
export const SETTLE_MAX_GAP_MS = 250;
/** Every frame from the settled point on is less than this behind the camera. */
export const SETTLE_MAX_LATENCY_MS = 1000;
/**
 * A point counts only with this much clean playback after it before the observation ends: a start
 * whose last bad frame came in the window's last moments has not shown that it settled.
 */
export const SETTLE_HOLD_MS = 3000;

/**
 * Epoch ms of the first frame of the last stretch that keeps to both rules to the end of the
 * observation, or undefined: no frames, the picture stopped before the end, or that stretch is
 * shorter than SETTLE_HOLD_MS.
 */
export function settledAt({ samples, until }: SettleObservation): number | undefined {
  const frames = [...samples].sort((a, b) => a.at - b.at);
  const last = frames.at(-1);
  if (!last || until - last.at > SETTLE_MAX_GAP_MS) return undefined;
  let k = frames.length - 1;
  while (k > 0) {
    const frame = frames[k]!;
    if (frame.latencyMs >= SETTLE_MAX_LATENCY_MS || frame.at - frames[k - 1]!.at > SETTLE_MAX_GAP_MS) break;
    k--;
  }
  // A frame too far behind is not part of the stretch; a gap before a frame is, from that frame on.
  if (frames[k]!.latencyMs >= SETTLE_MAX_LATENCY_MS) k++;
  const from = frames[k];
  if (!from || until - from.at < SETTLE_HOLD_MS) return undefined;
  return from.at;
}

export interface SettleResult {
  /** The start → settled, ms; undefined: not within the observation. */
  toSettled?: number;
  /** The start → the end of the observation, ms. */
  observedMs: number;
  /** The worst of the observation: the longest gap between frames and the largest glass-to-glass. */
  longestGapMs?: number;
  maxLatencyMs?: number;
}

/** The settled figure of one cold start; undefined when the run kept no frames for it (older results). */
export function settleOf(start: ColdStart): SettleResult | undefined {
  const observation = start.settle;
  if (!observation) return undefined;
  const at = settledAt(observation);
  const frames = [...observation.samples].sort((a, b) => a.at - b.at);
  const gaps = frames.slice(1).map((f, i) => f.at - frames[i]!.at);
  return {
    ...(at !== undefined && { toSettled: at - start.startAt }),
    observedMs: observation.until - start.startAt,
    ...(gaps.length > 0 && { longestGapMs: Math.max(...gaps) }),
    ...(frames.length > 0 && { maxLatencyMs: Math.max(...frames.map((f) => f.latencyMs)) }),
  };
}

/**
 * The p-th percentile (0-100) of the cold starts' settle times, where one that never settled counts
 * as longer than any: 'never' when the rank falls on one. Undefined when no start was observed.
 */
export function settlePercentile(results: readonly SettleResult[], p: number): number | 'never' | undefined {
  if (results.length === 0) return undefined;
  const sorted = results.map((r) => r.toSettled ?? Infinity).sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = sorted[Math.floor(rank)]!;
  const high = sorted[Math.ceil(rank)]!;
  if (high === Infinity) return 'never';
  return low + (high - low) * (rank - Math.floor(rank));
}

/** The figure of every observed cold start of a run. */
export const settleResults = (starts: readonly ColdStart[]): SettleResult[] =>
  starts.flatMap((start) => settleOf(start) ?? []);
