/**
 * What a person sees: the web client in Chromium, against the demo setup (embedded broker, service,
 * agent on the test source). Click Start, watch the video's frames advance, click Stop, the files go.
 * Screenshots land in test-results/ for a person to look at.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import type { CamstreamStats } from '../apps/web-client/src/stats/types.js';
import { launchBrowser } from './helpers/browser.js';
import { useCleanup } from './helpers/cleanup.js';
import { startSystem, ROOT } from './helpers/system.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', CHROMIUM_PATH);
const SHOTS = join(ROOT, 'test-results');

/** A fingerprint of the frame on screen: the video drawn into a small canvas, summed per row. */
function frameFingerprint(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>('[data-testid="video"]')!;
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    const context = canvas.getContext('2d')!;
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    const rows: number[] = [];
    for (let y = 0; y < canvas.height; y++) {
      let sum = 0;
      for (let x = 0; x < canvas.width * 4; x++) sum += data[y * canvas.width * 4 + x]!;
      rows.push(sum);
    }
    return rows;
  });
}

const videoTime = (page: Page) =>
  page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid="video"]')!.currentTime);

describe.runIf(ready)('the web client in Chromium', () => {
  const cleanup = useCleanup();

  test('Start shows the live camera, Stop removes it', async () => {
    await mkdir(SHOTS, { recursive: true });
    const system = await startSystem(cleanup, { broker: 'embedded' });
    const browser = await launchBrowser(cleanup);
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (error) => consoleErrors.push(error.message));

    await page.goto(`${system.baseUrl}/?stats=1`);
    await page.getByTestId('camera-state').and(page.locator('[data-state="idle"]')).waitFor();
    await page.getByTestId('stream-state').and(page.locator('[data-state="idle"]')).waitFor();
    await page.screenshot({ path: join(SHOTS, 'client-ready.png') });

    await page.getByTestId('start').click();
    await page
      .getByTestId('stream-state')
      .and(page.locator('[data-state="live"]'))
      .waitFor({ timeout: 15_000 });

    // Frames advance: playback time moves and the picture changes (the test source draws a clock).
    await waitFor('playback to begin', async () => (await videoTime(page)) > 0.5, { timeoutMs: 15_000 });
    const t0 = await videoTime(page);
    const f0 = await frameFingerprint(page);
    await page.waitForTimeout(1500);
    const t1 = await videoTime(page);
    const f1 = await frameFingerprint(page);
    expect(t1 - t0).toBeGreaterThan(1);
    expect(f1).not.toEqual(f0);
    expect(f0.some((row) => row > 0)).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'client-live.png') });

    // ?stats=1: the capture-time stamps of the test source are read off the displayed frames.
    const stats = await page.evaluate(
      () => (window as { __camstreamStats?: CamstreamStats }).__camstreamStats,
    );
    expect(stats?.samples.length).toBeGreaterThan(0);
    for (const { latencyMs } of stats!.samples) {
      expect(latencyMs).toBeGreaterThan(0);
      expect(latencyMs).toBeLessThan(10_000);
    }

    await page.getByTestId('stop').click();
    await page
      .getByTestId('stream-state')
      .and(page.locator('[data-state="idle"]'))
      .waitFor({ timeout: 15_000 });
    await waitFor(
      'the stream to be removed',
      async () =>
        (await system.hlsFiles()).length === 0 &&
        (await fetch(`${system.baseUrl}/hls/stream.m3u8`)).status === 404 &&
        (await system.segmenterPids()).length === 0,
    );
    await page.screenshot({ path: join(SHOTS, 'client-stopped.png') });
    expect(consoleErrors).toEqual([]);
  });

  test('the camera being offline is shown in words, not a blank video', async () => {
    const system = await startSystem(cleanup, { broker: 'embedded', agent: false });
    const browser = await launchBrowser(cleanup, { width: 375, height: 740 });
    const page = await browser.newPage();
    await page.goto(system.baseUrl);
    // Never heard from the camera: the page must say so rather than offer a dead player.
    const state = page.getByTestId('camera-state');
    await expect.poll(() => state.getAttribute('data-state')).toMatch(/offline|unknown/);
    await expect.poll(() => state.innerText()).toMatch(/offline/i);
    await page.screenshot({ path: join(SHOTS, 'client-offline-phone.png') });

    await page
      .getByTestId('start')
      .click({ trial: false, force: true })
      .catch(() => undefined);
    // Either Start is disabled while offline, or pressing it explains why nothing happens.
    const disabled = await page.getByTestId('start').isDisabled();
    if (!disabled) await expect.poll(() => page.getByTestId('error').innerText()).toMatch(/offline/i);
  });
});
