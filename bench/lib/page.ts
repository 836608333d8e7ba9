/**
 * The player page as the bench reads it: `window.__camstreamStats`, filled by the web client when
 * opened with `?stats=1` (also in player-only mode, `?src=`), and hls.js's own latency target.
 */
import type { Page } from 'playwright-core';
// The client owns the shape; the bench reads it through the browser.
import type { CamstreamStats } from '../../apps/web-client/src/stats/types.js';

export type { CamstreamStats };

interface StatsWindow {
  __camstreamStats?: CamstreamStats;
  __camstreamHls?: { targetLatency?: number | null; latency?: number } | null;
}

/** The stats with only the samples newer than `since` (the page may keep thousands). */
export type StatsSnapshot = CamstreamStats & { targetLatency?: number; readAt: number };

export function readStats(page: Page, since = -Infinity): Promise<StatsSnapshot | undefined> {
  return page.evaluate((since) => {
    const w = window as unknown as StatsWindow;
    const stats = w.__camstreamStats;
    if (!stats) return undefined;
    const target = w.__camstreamHls?.targetLatency;
    return {
      ...stats,
      samples: (stats.samples ?? []).filter((sample) => sample.at > since),
      ...(typeof target === 'number' && { targetLatency: target }),
      readAt: Date.now(),
    };
  }, since);
}

/** Polls the stats until `pick` returns a value; throws with `what` after `timeoutMs`. */
export async function waitForStats<T>(
  page: Page,
  what: string,
  pick: (stats: StatsSnapshot) => T | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await readStats(page, Infinity);
    const value = stats && pick(stats);
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const seen = stats ? JSON.stringify({ ...stats, samples: undefined }) : 'no window.__camstreamStats';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (page stats: ${seen})`);
    }
    await page.waitForTimeout(25);
  }
}

/** A media event of the page's video element, as the bench's init script logs it. */
export interface MediaEvent {
  type: string;
  /** Epoch ms (Date.now() in the page). */
  at: number;
  currentTime: number;
  readyState: number;
}

const MEDIA_EVENTS = ['waiting', 'playing', 'seeking', 'seeked', 'pause', 'play', 'emptied', 'ended'];

/**
 * Logs the events of every video element of `page` (from its next navigation on) to
 * `window.__benchMediaEvents`: the page's stats count 'waiting' events but not when they happened.
 */
export async function logMediaEvents(page: Page): Promise<void> {
  await page.addInitScript((types: string[]) => {
    const log: unknown[] = [];
    (window as unknown as { __benchMediaEvents: unknown[] }).__benchMediaEvents = log;
    for (const type of types) {
      document.addEventListener(
        type,
        (event) => {
          const video = event.target;
          if (!(video instanceof HTMLVideoElement)) return;
          log.push({ type, at: Date.now(), currentTime: video.currentTime, readyState: video.readyState });
        },
        true,
      );
    }
  }, MEDIA_EVENTS);
}

export function readMediaEvents(page: Page): Promise<MediaEvent[]> {
  return page.evaluate(
    () => (window as unknown as { __benchMediaEvents?: MediaEvent[] }).__benchMediaEvents ?? [],
  );
}

export interface PlaybackSeries {
  samples: { at: number; latencyMs: number }[];
  /** Once a second: hls.js's distance from the live edge, its target, the forward buffer. */
  player: { at: number; hlsLatency?: number; targetLatency?: number; bufferSeconds?: number }[];
  last?: StatsSnapshot;
}

/** Reads new samples once a second for `durationMs`, calling `tick` after each read. */
export async function collectPlayback(
  page: Page,
  durationMs: number,
  tick: (series: PlaybackSeries, elapsedMs: number) => void | Promise<void>,
): Promise<PlaybackSeries> {
  const series: PlaybackSeries = { samples: [], player: [] };
  const startedAt = Date.now();
  let since = -Infinity;
  for (;;) {
    const stats = await readStats(page, since);
    if (stats) {
      series.samples.push(...stats.samples);
      since = stats.samples.at(-1)?.at ?? since;
      series.player.push({
        at: stats.readAt,
        ...(stats.hlsLatency !== undefined && { hlsLatency: stats.hlsLatency }),
        ...(stats.targetLatency !== undefined && { targetLatency: stats.targetLatency }),
        ...(stats.bufferSeconds !== undefined && { bufferSeconds: stats.bufferSeconds }),
      });
      series.last = { ...stats, samples: [] };
    }
    const elapsed = Date.now() - startedAt;
    await tick(series, elapsed);
    if (elapsed >= durationMs) return series;
    await page.waitForTimeout(Math.min(1000, durationMs - elapsed));
  }
}
