/** Order statistics for the report. Pure. */

/** The p-th percentile (0-100) by linear interpolation between closest ranks; undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export const median = (values: readonly number[]): number | undefined => percentile(values, 50);

export function mean(values: readonly number[]): number | undefined {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? undefined : finite.reduce((sum, v) => sum + v, 0) / finite.length;
}

export interface Summary {
  count: number;
  median?: number;
  p95?: number;
  min?: number;
  max?: number;
  mean?: number;
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { count: 0 };
  return {
    count: finite.length,
    median: median(finite),
    p95: percentile(finite, 95),
    min: Math.min(...finite),
    max: Math.max(...finite),
    mean: mean(finite),
  };
}
