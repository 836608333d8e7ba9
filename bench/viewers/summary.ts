/**
 * A step's figures from what the generator processes recorded (pure). Lateness: for each playlist
 * version (and each part), how long after the first viewer to have it each other viewer had it; the
 * first is the service's own pace, the rest is what serving many costs. Versions whose first arrival
 * falls in the window's first or last second are left out (some arrivals were before the mark, or
 * after the collection).
 */
import { percentile } from '../lib/stats.js';
import type { GeneratorWindow } from './generator.js';

/** Versions first seen this close to the window's edges are not judged. */
const EDGE_MS = 1000;

export interface Lateness {
  /** Arrivals judged. */
  count: number;
  p50?: number;
  p99?: number;
  max?: number;
}

export interface LoadFigures {
  viewers: number;
  seconds: number;
  playlist: Lateness;
  part: Lateness;
  /** Requests that failed, by kind, and in all. */
  errors: Record<string, number>;
  errorCount: number;
  requests: number;
  /** Per viewer and second (parts: segments for plain HLS viewers). */
  playlistsPerViewerSec: number;
  partsPerViewerSec: number;
  /** Bytes per second received by all viewers. */
  bytesPerSec: number;
  /** Summed over the generator processes, % of one core. */
  generatorCpu: number;
  /** The worst of the processes' event-loop delay p99, ms. */
  generatorLoopDelayP99: number;
}

export function latenessOf(windows: readonly GeneratorWindow[], key: 'playlists' | 'parts'): Lateness {
  const from = Math.max(...windows.map((w) => w.startedAt)) + EDGE_MS;
  const to = Math.min(...windows.map((w) => w.endedAt)) - EDGE_MS;
  const arrivals = new Map<string, number[]>();
  for (const window of windows)
    for (const [id, times] of Object.entries(window[key])) {
      const list = arrivals.get(id);
      if (list) for (const at of times) list.push(at);
      else arrivals.set(id, [...times]);
    }
  const late: number[] = [];
  for (const times of arrivals.values()) {
    const first = times.reduce((a, b) => Math.min(a, b), Infinity);
    if (first < from || first > to) continue;
    for (const at of times) late.push(at - first);
  }
  return {
    count: late.length,
    ...(late.length > 0 && {
      p50: percentile(late, 50)!,
      p99: percentile(late, 99)!,
      max: late.reduce((a, b) => Math.max(a, b), 0),
    }),
  };
}

export function loadFigures(windows: readonly GeneratorWindow[]): LoadFigures {
  const viewers = windows.reduce((sum, w) => sum + w.viewers, 0);
  const seconds =
    (Math.min(...windows.map((w) => w.endedAt)) - Math.max(...windows.map((w) => w.startedAt))) / 1000;
  const errors: Record<string, number> = {};
  for (const w of windows)
    for (const [kind, n] of Object.entries(w.errors)) errors[kind] = (errors[kind] ?? 0) + n;
  const sum = (f: (w: GeneratorWindow) => number) => windows.reduce((total, w) => total + f(w), 0);
  const perViewerSec = (n: number) => (viewers > 0 && seconds > 0 ? n / viewers / seconds : 0);
  return {
    viewers,
    seconds,
    playlist: latenessOf(windows, 'playlists'),
    part: latenessOf(windows, 'parts'),
    errors,
    errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
    requests: sum((w) => w.requests.playlist + w.requests.part + w.requests.init + w.requests.segment),
    playlistsPerViewerSec: perViewerSec(sum((w) => w.requests.playlist)),
    partsPerViewerSec: perViewerSec(sum((w) => w.requests.part + w.requests.segment)),
    bytesPerSec: seconds > 0 ? sum((w) => w.bytes) / seconds : 0,
    generatorCpu: sum((w) => w.cpuPercent),
    generatorLoopDelayP99: Math.max(...windows.map((w) => w.loopDelayP99Ms)),
  };
}
