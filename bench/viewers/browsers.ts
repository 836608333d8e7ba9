/**
 * Real hls.js players beside the simulated ones: our client in player-only mode (`?src=…&ll=1`,
 * hls.js with its low-latency settings) in Chromium pages. What they request per second, counted
 * from the browser's own requests, is set beside the simulated viewers' in the report: if the
 * simulation asked for much less (or more) than hls.js does, its load would not be honest.
 */
import type { BrowserContext, Page, Request } from 'playwright-core';
import { readStats } from '../lib/page.js';

export interface BrowserFigures {
  players: number;
  seconds: number;
  /** Requests per player and second. */
  playlistsPerPlayerSec: number;
  partsPerPlayerSec: number;
  /** Of the playlist requests, those with a blocking directive (`_HLS_msn`). */
  blockingShare: number;
  /** Of the playlist requests, those asking for a delta update (`_HLS_skip`). */
  deltaShare: number;
  /** Answers ≥ 400 and requests that failed. */
  failures: number;
  /** Frames each player decoded in the window (a player that does not play shows 0). */
  framesPerPlayer: number[];
  /** hls.js's own estimate of each player's distance behind the live edge, s, at the end. */
  latencySec: (number | undefined)[];
}

interface Counts {
  playlists: number;
  blocking: number;
  delta: number;
  parts: number;
  failures: number;
}

const zero = (): Counts => ({ playlists: 0, blocking: 0, delta: 0, parts: 0, failures: 0 });

export async function watchWithHlsJs(browser: BrowserContext, playlistUrl: string, count: number) {
  const origin = new URL(playlistUrl).origin;
  const pages: Page[] = [];
  let counts = zero();
  let markedAt = performance.now();
  const framesAtMark = new Map<Page, number>();
  const isOurs = (request: Request) => request.url().startsWith(`${origin}/hls/`);
  for (let i = 0; i < count; i++) {
    const page = await browser.newPage();
    pages.push(page);
    page.on('request', (request) => {
      if (!isOurs(request)) return;
      const url = new URL(request.url());
      if (url.pathname.endsWith('.m3u8')) {
        counts.playlists += 1;
        if (url.searchParams.has('_HLS_msn')) counts.blocking += 1;
        if (url.searchParams.has('_HLS_skip')) counts.delta += 1;
      } else counts.parts += 1;
    });
    page.on('requestfailed', (request) => {
      if (isOurs(request)) counts.failures += 1;
    });
    page.on('response', (response) => {
      if (isOurs(response.request()) && response.status() >= 400) counts.failures += 1;
    });
    await page.goto(`${origin}/?src=${encodeURIComponent(playlistUrl)}&ll=1`);
  }
  const frames = async (page: Page) => (await readStats(page).catch(() => undefined))?.totalFrames ?? 0;
  return {
    async mark(): Promise<void> {
      counts = zero();
      markedAt = performance.now();
      for (const page of pages) framesAtMark.set(page, await frames(page));
    },
    async collect(): Promise<BrowserFigures> {
      const seconds = (performance.now() - markedAt) / 1000;
      const c = counts;
      const framesPerPlayer = await Promise.all(
        pages.map(async (page) => (await frames(page)) - (framesAtMark.get(page) ?? 0)),
      );
      const latencySec = await Promise.all(
        pages.map((page) =>
          page
            .evaluate(() => {
              const hls = (window as unknown as { __camstreamHls?: { latency?: number } | null })
                .__camstreamHls;
              return typeof hls?.latency === 'number' ? hls.latency : undefined;
            })
            .catch(() => undefined),
        ),
      );
      const per = (n: number) => (count > 0 && seconds > 0 ? n / count / seconds : 0);
      return {
        players: count,
        seconds,
        playlistsPerPlayerSec: per(c.playlists),
        partsPerPlayerSec: per(c.parts),
        blockingShare: c.playlists > 0 ? c.blocking / c.playlists : 0,
        deltaShare: c.playlists > 0 ? c.delta / c.playlists : 0,
        failures: c.failures,
        framesPerPlayer,
        latencySec,
      };
    },
    async close(): Promise<void> {
      await Promise.all(pages.map((page) => page.close().catch(() => undefined)));
    },
  };
}
