/** What both systems' runs share: the settings, the page, the steady window, progress lines. */
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import type { BenchOptions } from '../lib/args.js';
import { collectPlayback, type StatsSnapshot } from '../lib/page.js';
import type { PlaylistWatcher } from '../lib/playlist.js';
import {
  cachedFinder,
  childrenNamed,
  processTree,
  ResourceSampler,
  type RoleFinder,
} from '../lib/resources.js';
import { readSegmentStamps } from '../lib/segment-stamps.js';
import { median } from '../lib/stats.js';
import type { Teardown } from '../lib/teardown.js';
import type { SteadyRun, SystemRun } from '../lib/types.js';

/** The camera's settings for both systems: the agent's defaults, spelled out. */
export const VIDEO = { width: 640, height: 480, fps: 30, bitrate: 2_000_000, keyframeInterval: 30 };
export const VIDEO_ENV: Record<string, string> = {
  VIDEO_WIDTH: String(VIDEO.width),
  VIDEO_HEIGHT: String(VIDEO.height),
  VIDEO_FPS: String(VIDEO.fps),
  VIDEO_BITRATE: String(VIDEO.bitrate),
  KEYFRAME_INTERVAL: String(VIDEO.keyframeInterval),
};

/** Time limits for single steps (a start that takes longer than this has failed). */
export const STEP_TIMEOUT_MS = 20_000;

export interface BenchContext {
  options: BenchOptions;
  teardown: Teardown;
  browser: BrowserContext;
  /** A folder for kept segments (removed at the end). */
  workDir: string;
  log(line: string): void;
}

/** A new tab that records page errors, for failure messages. */
export async function newPage(ctx: BenchContext): Promise<{ page: Page; errors: string[] }> {
  const page = await ctx.browser.newPage();
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

/**
 * The steady window: `durationSec` of playback on `page` with resources sampled every second,
 * a progress line every 5 s; then the stamps of the kept segments are read.
 */
export async function steadyWindow(
  ctx: BenchContext,
  name: string,
  page: Page,
  firstFrameAt: number,
  watcher: PlaylistWatcher,
  roles: Record<string, RoleFinder>,
): Promise<{ steady: SteadyRun; resources: SystemRun['resources'] }> {
  const sampler = new ResourceSampler(roles);
  let lastLine = 0;
  const series = await collectPlayback(page, ctx.options.durationSec * 1000, (series, elapsed) => {
    if (elapsed - lastLine < 5000 && elapsed < ctx.options.durationSec * 1000) return;
    lastLine = elapsed;
    const recent = series.samples.filter((s) => s.at > Date.now() - 5000).map((s) => s.latencyMs);
    const stalls = series.last?.stalls ?? 0;
    ctx.log(
      `${name}: steady ${Math.round(elapsed / 1000)}/${ctx.options.durationSec} s: ` +
        `glass-to-glass median (last 5 s) ${ms(median(recent))}, ${series.samples.length} samples, ${stalls} stalls`,
    );
  });
  const resources = sampler.stop();
  const segments = await watcher.stop();
  const last: Partial<StatsSnapshot> = series.last ?? {};
  const steady: SteadyRun = {
    firstFrameAt,
    endedAt: Date.now(),
    samples: series.samples,
    player: series.player,
    ...(last.stalls !== undefined && { stalls: last.stalls }),
    ...(last.stallMs !== undefined && { stallMs: last.stallMs }),
    ...(last.unreadFrames !== undefined && { unreadFrames: last.unreadFrames }),
    ...(last.droppedFrames !== undefined && { droppedFrames: last.droppedFrames }),
    ...(last.totalFrames !== undefined && { totalFrames: last.totalFrames }),
    ...(watcher.targetDuration !== undefined && { targetDuration: watcher.targetDuration }),
    segments: await readSegmentStamps(segments, VIDEO.width, VIDEO.height),
  };
  if (steady.samples.length === 0) {
    throw new Error(
      `${name}: no glass-to-glass samples in ${ctx.options.durationSec} s: does the page fill ` +
        'window.__camstreamStats.samples (?stats=1), and does the test source stamp its frames (TEST_SOURCE_STAMP)?',
    );
  }
  return { steady, resources };
}
