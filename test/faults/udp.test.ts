/**
 * The camera's video cut off on its way for 5 s (a Wi-Fi drop, a cable pulled), for real: the agent
 * sends through a UDP hop of the test's (test/helpers/udp-proxy.ts) that drops every datagram for that
 * long. The service says so (input: silent), the playlist goes on cleanly after a discontinuity, and
 * the web client in Chromium shows the silence and plays again without a reload. Plain HLS too: the
 * same segmenter, the media sequence continued after a discontinuity.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import type { CamstreamStats } from '../../apps/web-client/src/stats/types.js';
import { launchBrowser } from '../helpers/browser.js';
import { useCleanup } from '../helpers/cleanup.js';
import { streamInfo } from '../helpers/faults.js';
import { recordFigures } from '../helpers/figures.js';
import { watchLive } from '../helpers/live-watch.js';
import { expectPlayableByFfmpeg } from '../helpers/player.js';
import { json, ROOT, startSystem } from '../helpers/system.js';
import { CHROMIUM_PATH, haveTools } from '../helpers/tools.js';
import { startUdpProxy } from '../helpers/udp-proxy.js';
import { waitFor } from '../helpers/wait.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto', CHROMIUM_PATH);
const SHOTS = join(ROOT, 'test-results');
const SILENCE_MS = 5000;

const playhead = (page: Page) =>
  page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid="video"]')!.currentTime);
const overlay = (page: Page) =>
  page.evaluate(() => document.querySelector('[data-overlay]')?.getAttribute('data-overlay') ?? null);

describe.runIf(ready)('the camera’s video cut off for 5 s', () => {
  const cleanup = useCleanup();

  test('LL-HLS: the service says silent, the playlist goes on after a discontinuity, the page plays again without a reload', async () => {
    await mkdir(SHOTS, { recursive: true });
    const system = await startSystem(cleanup, { broker: 'mosquitto', agent: false });
    const hop = await startUdpProxy(cleanup, system.udpPort);
    await system.startAgent({ UDP_TARGET: hop.url });
    const browser = await launchBrowser(cleanup);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });
    // LL-HLS's recovery is what this measures (the page's default is WebRTC).
    await page.goto(`${system.baseUrl}/?stats=1&transport=hls`);
    await page.getByTestId('camera-state').and(page.locator('[data-state="idle"]')).waitFor();
    await page.getByTestId('start').click();
    await waitFor('playback', async () => (await playhead(page)) > 1, { timeoutMs: 20_000 });
    const live = watchLive(system.baseUrl);
    cleanup.add(() => live.stop());
    await sleep(1000);

    const cutAt = Date.now();
    hop.cut();
    await waitFor('the service to say the video stopped', async () => {
      return (await streamInfo(system)).input?.state === 'silent';
    });
    const silentReportedMs = Date.now() - cutAt;
    expect(await streamInfo(system)).toMatchObject({ state: 'live', camera: { state: 'streaming' } });
    await waitFor('the page to say so', async () => (await overlay(page)) === 'no-video');
    const shownMs = Date.now() - cutAt;
    expect(await page.getByTestId('stream-state').innerText()).toMatch(/no video/i);
    await page.screenshot({ path: join(SHOTS, 'fault-no-video.png') });
    await sleep(Math.max(0, cutAt + SILENCE_MS - Date.now()));

    const restoredAt = Date.now();
    hop.restore();
    const frozenAt = await playhead(page);
    // The first part after the discontinuity (the frame before the drop, which arrives with the
    // first packets after it, ends the old segment at once).
    const resumed = await waitFor(
      'a part after the discontinuity',
      () => live.firstPartAfterDiscontinuity(),
      { timeoutMs: 10_000 },
    );
    await waitFor('the page to play again', async () => (await playhead(page)) > frozenAt + 0.3, {
      timeoutMs: 15_000,
      intervalMs: 20,
    });
    const playingAgainMs = Date.now() - restoredAt;
    await waitFor('the overlay to go', async () => (await overlay(page)) === null);
    expect((await streamInfo(system)).input?.state).toBe('receiving');
    await sleep(4000);
    await page.screenshot({ path: join(SHOTS, 'fault-video-back.png') });
    await live.stop();

    // The playlist stayed valid reload after reload, and went on after one discontinuity.
    expect(live.violations).toEqual([]);
    expect(live.discontinuities.size).toBe(1);
    expect(live.answers.get(404) ?? 0).toBe(0);
    // The page played on by itself: no reload, no error, frames advancing, latency back to normal.
    expect(navigations).toBe(1);
    expect(pageErrors).toEqual([]);
    const stats = (await page.evaluate(
      () => (window as { __camstreamStats?: CamstreamStats }).__camstreamStats,
    ))!;
    const after = stats.samples.filter((s) => s.at > Date.now() - 2000).map((s) => s.latencyMs);
    after.sort((a, b) => a - b);
    expect(after.length).toBeGreaterThan(30);
    const latencyAfterMs = after[Math.floor(after.length / 2)]!;
    expect(latencyAfterMs).toBeLessThan(2000);
    recordFigures({
      silenceMs: SILENCE_MS,
      silentReportedMs,
      shownOnPageMs: shownMs,
      firstPartAfterMs: resumed.at - restoredAt,
      pagePlayingAgainMs: playingAgainMs,
      glassToGlassAfterMs: latencyAfterMs,
      datagramsDropped: hop.stats.dropped,
    });
  });

  test('plain HLS: the same segmenter, the media sequence continued after a discontinuity, every segment within the target duration', async () => {
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      agent: false,
      webEnv: { HLS_MODE: 'plain' },
    });
    const hop = await startUdpProxy(cleanup, system.udpPort);
    await system.startAgent({ UDP_TARGET: hop.url });
    expect(await system.api('/api/stream/start', json())).toMatchObject({ status: 200 });
    await sleep(2500);
    const before = await (await fetch(`${system.baseUrl}/hls/stream.m3u8`)).text();
    const lastBefore =
      Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(before)![1]) + (before.match(/#EXTINF/g) ?? []).length;
    const [first] = await system.segmenterPids();

    hop.cut();
    await waitFor('silent', async () => (await streamInfo(system)).input?.state === 'silent');
    await sleep(SILENCE_MS - 2000);
    const restoredAt = Date.now();
    hop.restore();
    await waitFor('the video back', async () => (await streamInfo(system)).input?.state === 'receiving', {
      timeoutMs: 15_000,
    });
    await waitFor('a segment after the discontinuity', async () => {
      const text = await (await fetch(`${system.baseUrl}/hls/stream.m3u8`)).text();
      return /#EXT-X-DISCONTINUITY[\s\S]*#EXTINF/.test(text) && text;
    });
    const backMs = Date.now() - restoredAt;
    const text = await (await fetch(`${system.baseUrl}/hls/stream.m3u8`)).text();
    expect(text).toContain('#EXT-X-TARGETDURATION:1\n');
    expect(text).not.toContain('#EXT-X-ENDLIST');
    for (const [, seconds] of text.matchAll(/#EXTINF:([\d.]+)/g))
      expect(Math.round(Number(seconds))).toBeLessThanOrEqual(1);
    expect(Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)![1])).toBeGreaterThanOrEqual(lastBefore);
    // The plain HLS output cuts the discontinuity itself: the segmenter (the remuxer) is not replaced.
    expect(await system.segmenterPids()).toEqual([first]);
    await expectPlayableByFfmpeg(`${system.baseUrl}/hls/stream.m3u8`, {
      seconds: 2,
      minSeconds: 1.9,
      minFrames: 2 * 30 * 0.9,
    });
    // Only the segments after the discontinuity are left on disk once it plays (one run's).
    const files = (await system.hlsFiles()).filter((f) => f.endsWith('.m4s'));
    expect(new Set(files.map((f) => f.replace(/-\d+\.m4s$/, ''))).size).toBe(1);
    for (const file of files)
      expect(Number(/-(\d+)\.m4s$/.exec(file)![1])).toBeGreaterThanOrEqual(lastBefore);
    recordFigures({ silenceMs: SILENCE_MS, playlistBackMs: backMs });
  });
});
