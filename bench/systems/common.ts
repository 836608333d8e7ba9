/** What both systems' runs share: the settings, the page, the steady window, progress lines. */
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import type { BenchOptions } from '../lib/args.js';
import {
  collectPlayback,
  logMediaEvents,
  readMediaEvents,
  readStats,
  waitForStats,
  type PlaybackSeries,
  type StatsSnapshot,
} from '../lib/page.js';
import { MetricsSampler } from '../lib/metrics.js';
import type { PlaylistWatcher } from '../lib/playlist-watcher.js';
import {
  cachedFinder,
  childrenNamed,
  processTree,
  ResourceSampler,
  type RoleFinder,
} from '../lib/resources.js';
import { readSegmentStamps } from '../lib/segment-stamps.js';
import { median } from '../lib/stats.js';
import { settleOf } from '../report/settle.js';
import type { Teardown } from '../lib/teardown.js';
import type {
  ColdStart,
  LateJoinerRun,
  SettleObservation,
  SteadyRun,
  SystemRun,
  ViewerRun,
} from '../lib/types.js';

/** The camera's settings for both systems: the agent's defaults, spelled out. */
export const VIDEO = { width: 640, height: 480, fps: 30, bitrate: 2_000_000, keyframeInterval: 30 };
export const VIDEO_ENV: Record<string, string> = {
  VIDEO_WIDTH: String(VIDEO.width),
  VIDEO_HEIGHT: String(VIDEO.height),
  VIDEO_FPS: String(VIDEO.fps),
  VIDEO_BITRATE: String(VIDEO.bitrate),
  KEYFRAME_INTERVAL: String(VIDEO.keyframeInterval),
};

/** The foreign camera's settings: the same picture and encoder settings, none of the agent's tricks. */
export const FOREIGN_VIDEO = {
  fps: VIDEO.fps,
  width: VIDEO.width,
  height: VIDEO.height,
  gopSeconds: VIDEO.keyframeInterval / VIDEO.fps,
  bitrate: VIDEO.bitrate,
  stamp: true,
};

/** Time limits for single steps (a start that takes longer than this has failed). */
export const STEP_TIMEOUT_MS = 20_000;

export interface BenchContext {
  options: BenchOptions;
  teardown: Teardown;
  browser: BrowserContext;
  /**
   * The late joiner's browser, as another person's would be: launched with the first (launching it
   * during the window would load the machine then); a second tab of the first viewer's browser was
   * seen to slow that viewer's frame callbacks to one a second.
   */
  joinerBrowser: BrowserContext;
  /** A folder for kept segments (removed at the end). */
  workDir: string;
  log(line: string): void;
}

/** A new tab that records page errors, for failure messages. */
export async function newPage(
  ctx: BenchContext,
  browser: BrowserContext = ctx.browser,
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  await logMediaEvents(page);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return { page, errors };
}

export const ms = (value: number | undefined): string =>
  value === undefined ? 'n/a' : `${Math.round(value)} ms`;

/** Chromium: the browser process playwright started (a child of this process) and all its children. */
export const chromiumFinder: RoleFinder = cachedFinder(async () => {
  const roots = [
    ...(await childrenNamed(process.pid, 'chromium')),
    ...(await childrenNamed(process.pid, 'chrome')),
  ];
  return (await Promise.all(roots.map(processTree))).flat();
}, 5000);

/** The full command line of a process, or undefined once it is gone. */
export async function commandLine(pid: number | undefined): Promise<string[] | undefined> {
  if (pid === undefined) return undefined;
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((arg) => arg !== '');
  } catch {
    return undefined;
  }
}

/** What a viewer's page says at the end of the window, with the bench's log of its video events. */
async function viewerRun(
  page: Page,
  firstFrameAt: number,
  series: PlaybackSeries,
  endedAt: number,
): Promise<ViewerRun> {
  const last: Partial<StatsSnapshot> = series.last ?? {};
  const mediaEvents = await readMediaEvents(page).catch(() => undefined);
  return {
    firstFrameAt,
    endedAt,
    samples: series.samples,
    player: series.player,
    ...(last.stalls !== undefined && { stalls: last.stalls }),
    ...(last.stallMs !== undefined && { stallMs: last.stallMs }),
    ...(last.unreadFrames !== undefined && { unreadFrames: last.unreadFrames }),
    ...(last.droppedFrames !== undefined && { droppedFrames: last.droppedFrames }),
    ...(last.totalFrames !== undefined && { totalFrames: last.totalFrames }),
    ...(mediaEvents && { mediaEvents }),
  };
}

/**
 * The late joiner: `delayMs` after the first viewer's first frame, a fresh page opens `url` on the
 * live stream (no click) and is measured until `endAt`.
 */
async function lateJoiner(
  ctx: BenchContext,
  name: string,
  url: string,
  firstFrameAt: number,
  delayMs: number,
  endAt: number,
): Promise<LateJoinerRun> {
  const wait = firstFrameAt + delayMs - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const { page, errors } = await newPage(ctx, ctx.joinerBrowser);
  try {
    const joinAt = Date.now();
    await page.goto(url);
    const firstAt = await waitForStats(
      page,
      `${name}: the late joiner’s first frame`,
      (s) => s.firstFrameAt,
      Math.max(STEP_TIMEOUT_MS, endAt - Date.now()),
    ).catch((err: Error) => {
      throw new Error(`${err.message}${errors.length ? `\npage errors: ${errors.join('\n')}` : ''}`);
    });
    ctx.log(
      `${name}: late joiner opened the page ${Math.round((joinAt - firstFrameAt) / 1000)} s after the first frame; join → first frame ${ms(firstAt - joinAt)}`,
    );
    const series = await collectPlayback(page, Math.max(0, endAt - Date.now()), () => undefined);
    const run = await viewerRun(page, firstAt, series, Date.now());
    return { ...run, joinAt, joinDelayMs: joinAt - firstFrameAt };
  } finally {
    await page.close();
  }
}

/**
 * The steady window: `durationSec` of playback on `page` with resources (and, given `metricsUrl`,
 * the packager's /metrics) sampled every second, a progress line every 5 s; meanwhile, unless turned
 * off, a late joiner (`joinUrl`) opens a second page `lateJoinSec` after the first frame. Then the
 * stamps of the kept segments are read.
 */
export async function steadyWindow(
  ctx: BenchContext,
  name: string,
  page: Page,
  firstFrameAt: number,
  watcher: PlaylistWatcher,
  roles: Record<string, RoleFinder>,
  joinUrl: string,
  metricsUrl?: string,
): Promise<{ steady: SteadyRun; resources: SystemRun['resources']; packager?: SystemRun['packager'] }> {
  const sampler = new ResourceSampler(roles);
  const metrics = metricsUrl ? new MetricsSampler(metricsUrl, () => watcher.listedNow()) : undefined;
  const durationMs = ctx.options.durationSec * 1000;
  const endAt = Date.now() + durationMs;
  const joinDelayMs = ctx.options.lateJoinSec * 1000;
  const joiner =
    joinDelayMs > 0 && firstFrameAt + joinDelayMs < endAt
      ? lateJoiner(ctx, name, joinUrl, firstFrameAt, joinDelayMs, endAt)
      : undefined;
  if (joinDelayMs > 0 && !joiner)
    ctx.log(
      `${name}: no late joiner: the window ends before ${ctx.options.lateJoinSec} s after the first frame`,
    );
  // Settled before the first viewer's loop ends, so a failing joiner cannot leave a rejection unhandled.
  const joined = joiner?.then(
    (run) => ({ run }),
    (error: unknown) => ({ error }),
  );
  let lastLine = 0;
  const series = await collectPlayback(page, durationMs, (series, elapsed) => {
    if (elapsed - lastLine < 5000 && elapsed < durationMs) return;
    lastLine = elapsed;
    const recent = series.samples.filter((s) => s.at > Date.now() - 5000).map((s) => s.latencyMs);
    const stalls = series.last?.stalls ?? 0;
    ctx.log(
      `${name}: steady ${Math.round(elapsed / 1000)}/${ctx.options.durationSec} s: ` +
        `glass-to-glass median (last 5 s) ${ms(median(recent))}, ${series.samples.length} samples, ${stalls} stalls`,
    );
  });
  const endedAt = Date.now();
  const late = await joined;
  const resources = sampler.stop();
  const packager = metrics?.stop();
  const segments = await watcher.stop();
  if (late && 'error' in late) throw late.error;
  const steady: SteadyRun = {
    ...(await viewerRun(page, firstFrameAt, series, endedAt)),
    ...(watcher.targetDuration !== undefined && { targetDuration: watcher.targetDuration }),
    ...(watcher.partTarget !== undefined && { partTarget: watcher.partTarget }),
    ...(watcher.partHoldBack !== undefined && { partHoldBack: watcher.partHoldBack }),
    ...(watcher.holdBack !== undefined && { holdBack: watcher.holdBack }),
    segments: await readSegmentStamps(segments, VIDEO.width, VIDEO.height),
    ...(watcher.parts.length > 0 && { parts: watcher.parts }),
    playlistReads: watcher.reads,
    ...(late && 'run' in late && { lateJoiner: late.run }),
  };
  if (steady.samples.length === 0) {
    throw new Error(
      `${name}: no glass-to-glass samples in ${ctx.options.durationSec} s: does the page fill ` +
        'window.__camstreamStats.samples (?stats=1), and does the test source stamp its frames (TEST_SOURCE_STAMP)?',
    );
  }
  if (late && 'run' in late) {
    ctx.log(
      `${name}: late joiner: ${late.run.samples.length} samples, glass-to-glass median ` +
        `${ms(median(late.run.samples.map((s) => s.latencyMs)))}`,
    );
  }
  return { steady, resources, ...(packager && { packager }) };
}

/**
 * A cold start's frames for the "settled" figure: waits until `windowSec` after the first frame,
 * then reads every frame the page showed since the start.
 */
export async function observeSettle(
  ctx: BenchContext,
  page: Page,
  startAt: number,
  firstFrameAt: number,
): Promise<SettleObservation> {
  const wait = firstFrameAt + ctx.options.settleWindowSec * 1000 - Date.now();
  if (wait > 0) await page.waitForTimeout(wait);
  const stats = await readStats(page, startAt - 1);
  const until = stats?.readAt ?? Date.now();
  return { until, samples: stats?.samples ?? [] };
}

/** The same from the steady window's frames (the last cold start goes on into it): its first seconds. */
export function settleFromSteady(ctx: BenchContext, steady: SteadyRun): SettleObservation {
  const until = Math.min(steady.endedAt, steady.firstFrameAt + ctx.options.settleWindowSec * 1000);
  return { until, samples: steady.samples.filter((s) => s.at <= until) };
}

/** A progress line: when the cold start settled, or that it did not within the window. */
export function settledLine(start: ColdStart): string {
  const result = settleOf(start);
  if (!result) return 'settled: not observed';
  return result.toSettled !== undefined
    ? `start → settled (no freeze > 250 ms, every frame < 1 s behind) ${ms(result.toSettled)}`
    : `not settled within ${ms(result.observedMs)} (longest gap ${ms(result.longestGapMs)}, ` +
        `worst glass-to-glass ${ms(result.maxLatencyMs)})`;
}
