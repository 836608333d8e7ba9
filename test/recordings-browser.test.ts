/**
 * Recordings in the web client, in Chromium, with tokens configured (so every URL the page hands the
 * browser is a signed one or carries the header): an operator ticks Record and presses Start, sees
 * the red REC indicator and its time; Stop lists the recording by itself (the `recording` event, no
 * polling, no Refresh); Play shows it in the page as video on demand (it plays, lasts as long as it
 * was recorded ± 1.5 s, seeks), Back to live returns; the MP4 link answers 200 video/mp4 and
 * downloads; Record on a live stream runs past RECORD_MAX_SECONDS (10 s here): the cut lists the
 * finished part by itself (the `recordingId` event, no Refresh) while REC goes on, and Stop recording
 * lists the rest; Delete asks first; a
 * phone shows it all without sideways scrolling; a viewer sees the list, plays, and is offered no
 * Record and no Delete; a list that cannot be fetched is said in words, with the reason. Screenshots land in test-results/ (or CAMSTREAM_SCREENSHOTS).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import type { Recording } from '@camstream/protocol';
import { launchBrowser } from './helpers/browser.js';
import { tempDir, useCleanup } from './helpers/cleanup.js';
import { ROOT, startSystem } from './helpers/system.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'mosquitto', CHROMIUM_PATH);
const SHOTS = process.env.CAMSTREAM_SCREENSHOTS ?? join(ROOT, 'test-results');
const OPERATOR = 'op-rec-browser-0123456789abcdef';
const VIEWER = 'view-rec-browser-0123456789abcdef';
const PHONE = { width: 390, height: 844 };
/** Seconds recorded, from Start to Stop. */
const RECORD_S = 8;
/** RECORD_MAX_SECONDS: above RECORD_S (the first recording stays whole), short enough to wait for. */
const CUT_S = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByTestId('token').fill(token);
  await page.getByTestId('sign-in').click();
}

const playback = (page: Page) =>
  page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>('[data-testid="recording-video"]');
    const seekable = video && video.seekable.length > 0 ? video.seekable.end(video.seekable.length - 1) : 0;
    return { time: video?.currentTime ?? 0, duration: video?.duration ?? NaN, seekable };
  });

const rows = (page: Page) => page.getByTestId('recording');

describe.runIf(ready)('recordings in the web client, in Chromium', () => {
  const cleanup = useCleanup();

  test('record, see REC, stop, list, play as VOD, download, delete; phone; a viewer', async () => {
    await mkdir(SHOTS, { recursive: true });
    const recordDir = await tempDir(cleanup, 'camstream-test-rec-browser-');
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      token: OPERATOR,
      webEnv: {
        AUTH_TOKENS: `operator:${OPERATOR},viewer:${VIEWER}`,
        RECORD: 'on-demand',
        RECORD_DIR: recordDir,
        RECORD_MAX_SECONDS: String(CUT_S),
        RECORD_KEEP_DAYS: '0',
        RECORD_MIN_FREE: '0',
      },
    });
    const browser = await launchBrowser(cleanup);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.stack ?? error.message));
    await page.goto(`${system.baseUrl}/?transport=hls`);
    await signIn(page, OPERATOR);

    // No recordings yet: said in words, not a blank.
    const message = page.getByTestId('recordings-message');
    await message.and(page.locator('[data-state="ready"]')).waitFor();
    expect(await message.textContent()).toMatch(/No recordings yet/);
    await page.getByTestId('stream-state').and(page.locator('[data-state="idle"]')).waitFor();

    // Record, then Start: the REC indicator, its time running.
    await page.getByTestId('record-next').check();
    // The recording begins at the stream's first keyframe: after the click, before the indicator
    // (which waits for the stream to be live). Its length is taken as the middle of the two.
    const clickedAt = performance.now();
    await page.getByTestId('start').click();
    const indicator = page.getByTestId('recording-indicator');
    await indicator.waitFor({ timeout: 30_000 });
    const indicatedAt = performance.now();
    const recordedFrom = (clickedAt + indicatedAt) / 2;
    const elapsed = page.getByTestId('recording-elapsed');
    await waitFor('the time to run', async () => ((await elapsed.textContent()) ?? '') >= '0:03', {
      timeoutMs: 10_000,
    });
    // The button now ends the recording of the running stream; Start is not offered twice.
    expect(await page.getByTestId('record').getAttribute('data-recording')).toBe('true');
    await waitFor('the live video', () =>
      page.evaluate(
        () => (document.querySelector<HTMLVideoElement>('[data-testid="video"]')?.currentTime ?? 0) > 0.5,
      ),
    );
    await page.screenshot({ path: join(SHOTS, 'recordings-live.png') });
    await sleep(RECORD_S * 1000 - (performance.now() - recordedFrom));

    // Stop: the list gets the recording by itself (the event that the recording ended).
    await page.getByTestId('stop').click();
    const recordedS = (performance.now() - recordedFrom) / 1000;
    await page
      .getByTestId('stream-state')
      .and(page.locator('[data-state="idle"]'))
      .waitFor({ timeout: 15_000 });
    expect(await indicator.count()).toBe(0);
    await rows(page).first().waitFor({ timeout: 10_000 });
    expect(await rows(page).count()).toBe(1);
    const [listed] = ((await system.api('/api/recordings?camera=cam1')).body as { recordings: Recording[] })
      .recordings;
    expect(listed).toMatchObject({ recording: false });
    expect(Math.abs(listed!.duration - recordedS)).toBeLessThanOrEqual(1.5);
    expect(await rows(page).first().getByTestId('recording-size').textContent()).toMatch(/\d (kB|MB)$/);

    // Play it in the page: video on demand, as long as it was recorded, and it seeks.
    await rows(page).first().getByTestId('recording-play').click();
    await page.getByTestId('playback').waitFor();
    expect(await page.getByRole('region', { name: 'Live video' }).isVisible()).toBe(false);
    await waitFor('the recording to play', async () => (await playback(page)).time > 1, {
      timeoutMs: 20_000,
    });
    const first = await playback(page);
    console.log(
      `recording: ${recordedS.toFixed(2)} s recorded (click to live ${((indicatedAt - clickedAt) / 1000).toFixed(2)} s), ` +
        `${listed!.duration} s listed, ${first.duration.toFixed(2)} s in <video>`,
    );
    expect(Number.isFinite(first.duration)).toBe(true); // VOD: a finite length, not a live stream's
    expect(Math.abs(first.duration - recordedS)).toBeLessThanOrEqual(1.5);
    expect(first.seekable).toBeGreaterThan(first.duration - 1);
    await waitFor('the time to advance', async () => (await playback(page)).time > first.time + 0.5);
    await page.evaluate(() => {
      const video = document.querySelector<HTMLVideoElement>('[data-testid="recording-video"]')!;
      video.currentTime = video.duration / 2;
    });
    await waitFor('a seek to the middle', async () => {
      const now = await playback(page);
      return now.time >= first.duration / 2 - 0.5 && now.time < first.duration / 2 + 3;
    });
    await page.screenshot({ path: join(SHOTS, 'recordings-playback.png') });

    // The MP4 link is signed: it answers without a header, as a download.
    const link = rows(page).first().getByTestId('recording-download');
    const href = new URL((await link.getAttribute('href'))!, system.baseUrl);
    expect(href.searchParams.get('token')).toMatch(/^\d+\./);
    const mp4 = await fetch(href);
    expect(mp4.status).toBe(200);
    expect(mp4.headers.get('content-type')).toBe('video/mp4');
    expect((await mp4.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe(`${listed!.id}.mp4`);
    expect(await download.failure()).toBeNull();

    // Back to live.
    await page.getByTestId('back-to-live').click();
    await page.getByRole('region', { name: 'Live video' }).waitFor();
    expect(await page.getByTestId('playback').count()).toBe(0);

    // Record on a running stream past RECORD_MAX_SECONDS: the cut lists the finished part by itself
    // (no Refresh) while REC goes on; Stop recording lists the rest. The stream goes on throughout.
    await page.getByTestId('record-next').uncheck();
    await page.getByTestId('start').click();
    await page
      .getByTestId('stream-state')
      .and(page.locator('[data-state="live"]'))
      .waitFor({ timeout: 30_000 });
    expect(await indicator.count()).toBe(0);
    await page.getByTestId('record').click();
    await indicator.waitFor({ timeout: 10_000 });
    // The cut comes at the first 4 s segment's end after CUT_S.
    await waitFor('the cut listed by itself', async () => (await rows(page).count()) === 2, {
      timeoutMs: (CUT_S + 15) * 1000,
    });
    const cut = ((await system.api('/api/recordings?camera=cam1')).body as { recordings: Recording[] })
      .recordings[1]!;
    expect(cut).toMatchObject({ recording: false });
    expect(cut.duration).toBeGreaterThanOrEqual(CUT_S - 1);
    expect(await indicator.count()).toBe(1); // still recording, in the next one
    expect(((await elapsed.textContent()) ?? '') >= `0:${CUT_S}`).toBe(true); // its time goes on
    await page.screenshot({ path: join(SHOTS, 'recordings-cut.png'), fullPage: true });
    await sleep(1_000);
    await page.getByTestId('record').click();
    await waitFor('the indicator to go', async () => (await indicator.count()) === 0);
    await waitFor('three recordings listed', async () => (await rows(page).count()) === 3);
    expect(await page.getByTestId('stream-state').getAttribute('data-state')).toBe('live');
    await page.getByTestId('stop').click();
    await page
      .getByTestId('stream-state')
      .and(page.locator('[data-state="idle"]'))
      .waitFor({ timeout: 15_000 });

    // The phone: nothing wider than the screen, the list and its buttons in reach.
    await page.setViewportSize(PHONE);
    await rows(page).first().scrollIntoViewIfNeeded();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: join(SHOTS, 'recordings-phone.png'), fullPage: true });
    await rows(page).first().getByTestId('recording-play').click();
    await waitFor('playing on the phone', async () => (await playback(page)).time > 0.5, {
      timeoutMs: 20_000,
    });
    await page.screenshot({ path: join(SHOTS, 'recordings-phone-playback.png') });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Delete asks first; Cancel keeps it; Delete removes it (and stops playing it).
    const newest = rows(page).first();
    await newest.getByTestId('recording-delete').click();
    await newest.getByTestId('recording-delete-cancel').click();
    expect(await rows(page).count()).toBe(3);
    await newest.getByTestId('recording-delete').click();
    await newest.getByTestId('recording-delete-confirm').click();
    await waitFor('two left', async () => (await rows(page).count()) === 2);
    expect(await page.getByTestId('playback').count()).toBe(0);
    const left = ((await system.api('/api/recordings')).body as { recordings: Recording[] }).recordings;
    expect(left.map((r) => r.id)).toEqual([listed!.id, cut.id]);

    // A viewer: the list and Play, no Record and no Delete.
    await page.getByTestId('sign-out').click();
    await signIn(page, VIEWER);
    await page.getByTestId('session-role').and(page.locator('[data-role="viewer"]')).waitFor();
    await rows(page).first().waitFor();
    expect(await page.getByTestId('record-next').count()).toBe(0);
    expect(await page.getByTestId('record').count()).toBe(0);
    expect(await page.getByTestId('recording-delete').count()).toBe(0);
    await rows(page).first().getByTestId('recording-play').click();
    await waitFor('playing for the viewer', async () => (await playback(page)).time > 0.5, {
      timeoutMs: 20_000,
    });
    await page.screenshot({ path: join(SHOTS, 'recordings-viewer.png') });

    // The list unreachable: said with its reason, and Refresh brings it back. (Faked in the browser:
    // the one way to fail only this request; stopping the service would take the page down too.)
    await page.route('**/api/recordings?*', (route) => route.abort('connectionrefused'));
    await page.getByTestId('recordings-refresh').click();
    await message.and(page.locator('[data-state="error"]')).waitFor();
    expect(await message.textContent()).toMatch(
      /^Could not load the recordings: Could not reach the web service/,
    );
    await page.unroute('**/api/recordings?*');
    await page.getByTestId('recordings-refresh').click();
    await rows(page).first().waitFor();
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
