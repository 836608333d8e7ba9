/**
 * The web client with several cameras, in Chromium: a real Mosquitto, the service's real CLI, two
 * cameras that are not ours (test/helpers/foreign-camera.ts, plain ffmpeg) and a third configured
 * one that never speaks. The grid shows each camera's state, a live camera plays in its tile, a tile
 * opens the camera large (Back returns), Start and Stop there work, the deep link `/?camera=<id>`
 * opens a camera, an unknown id says so over the grid, and a phone shows all of it without sideways
 * scrolling. With one camera the page is today's, and stays so when a second one appears. Screenshots land in test-results/ (or CAMSTREAM_SCREENSHOTS) for a person to look at.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cameraPaths, type StreamInfo } from '@camstream/protocol';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { useCleanup, type Cleanup } from './helpers/cleanup.js';
import { ForeignCamera } from './helpers/foreign-camera.js';
import { freeUdpPort } from './helpers/ports.js';
import { json, ROOT, startSystem, type System } from './helpers/system.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'mosquitto', CHROMIUM_PATH);
const SHOTS = process.env.CAMSTREAM_SCREENSHOTS ?? join(ROOT, 'test-results');
const PHONE = { width: 390, height: 844 };

/** cam1 (the default) and cam2 answer; cam3 is configured but no camera ever speaks for it. */
async function threeCameras(cleanup: Cleanup): Promise<System> {
  const [cam2Port, cam3Port] = [await freeUdpPort(), await freeUdpPort()];
  const system = await startSystem(cleanup, {
    broker: 'mosquitto',
    agent: false,
    webEnv: {
      CAMERAS: `cam2=udp://127.0.0.1:${cam2Port} cam3=udp://127.0.0.1:${cam3Port}`,
      CAMERA_DISCOVERY: 'off',
    },
  });
  // cam2 is told where to send in its start command; its own target leads nowhere.
  for (const [cameraId, target] of [
    ['cam1', `udp://127.0.0.1:${system.udpPort}`],
    ['cam2', 'udp://127.0.0.1:9'],
  ] as const) {
    const camera = await ForeignCamera.connect({ mqttUrl: system.mqttUrl, cameraId, target });
    cleanup.add(() => camera.close());
  }
  await waitFor('cam1 and cam2 idle', async () => {
    const { body } = await system.api('/api/cameras');
    const states = (body as { cameras: StreamInfo[] }).cameras.map((c) => c.camera?.state ?? null);
    return states.join() === 'idle,idle,' && states;
  });
  return system;
}

const tile = (page: Page, cameraId: string) =>
  page.locator(`[data-testid="tile"][data-camera-id="${cameraId}"]`);

async function tileStates(page: Page): Promise<Record<string, string | null>> {
  const tiles = await page.getByTestId('tile').all();
  const entries = await Promise.all(
    tiles.map(
      async (t) => [await t.getAttribute('data-camera-id'), await t.getAttribute('data-state')] as const,
    ),
  );
  return Object.fromEntries(entries);
}

/** Playback time and a 16×12 fingerprint of the frame on screen of the video matched by `selector`. */
function frame(page: Page, selector: string): Promise<{ time: number; ready: boolean; rows: number[] }> {
  return page.evaluate((selector) => {
    const video = document.querySelector<HTMLVideoElement>(selector)!;
    const canvas = document.createElement('canvas');
    canvas.width = 16;
    canvas.height = 12;
    const context = canvas.getContext('2d')!;
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    const rows: number[] = [];
    for (let y = 0; y < canvas.height; y++) {
      let sum = 0;
      for (let x = 0; x < canvas.width * 4; x++) sum += data[y * canvas.width * 4 + x]!;
      rows.push(sum);
    }
    // A live player seeks near the edge before it has decoded there: a time but no frame yet.
    return { time: video.currentTime, ready: video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA, rows };
  }, selector);
}

/** The video's frames advance: playback time moves and the picture changes (the source draws a clock). */
async function expectFramesAdvance(page: Page, selector: string): Promise<void> {
  await waitFor(
    `${selector} to play`,
    async () => {
      const now = await frame(page, selector);
      return now.ready && now.time > 0.3;
    },
    { timeoutMs: 20_000 },
  );
  const before = await frame(page, selector);
  await page.waitForTimeout(1500);
  const after = await frame(page, selector);
  expect(after.time - before.time).toBeGreaterThan(0.8);
  expect(after.rows).not.toEqual(before.rows);
  expect(before.rows.some((row) => row > 0)).toBe(true);
}

/** Nothing wider than the viewport: no sideways scrolling. */
const horizontalOverflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe.runIf(ready)('the web client with several cameras, in Chromium', () => {
  const cleanup = useCleanup();

  test('the grid shows every camera’s state and a live one playing; a tile opens it large, where Start plays and Stop stops; Back returns to the grid', async () => {
    await mkdir(SHOTS, { recursive: true });
    const system = await threeCameras(cleanup);
    const browser = await launchBrowser(cleanup);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    await page.goto(system.baseUrl);
    await page.locator('[data-view="grid"]').waitFor();
    await expect.poll(() => tileStates(page)).toEqual({ cam1: 'idle', cam2: 'idle', cam3: 'offline' });
    await expect.poll(() => tile(page, 'cam3').innerText()).toMatch(/offline/i);
    // No picture yet: every tile says its state in words.
    expect(await page.getByTestId('tile-placeholder').count()).toBe(3);

    // A start of the silent camera fails at once: its tile tells the last error.
    expect((await system.api(cameraPaths('cam3').start, json())).status).toBeGreaterThanOrEqual(400);
    await expect.poll(() => tile(page, 'cam3').getByTestId('tile-error').innerText()).toMatch(/offline/i);
    expect(await tile(page, 'cam2').getByTestId('tile-error').count()).toBe(0);

    // cam1 started from elsewhere (the API): its tile goes live and plays, muted.
    expect((await system.api(cameraPaths('cam1').start, json())).status).toBe(200);
    await expect.poll(() => tile(page, 'cam1').getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
    await expectFramesAdvance(page, '[data-camera-id="cam1"] [data-testid="tile-video"]');
    expect(
      await page.locator('[data-camera-id="cam1"] video').evaluate((v: HTMLVideoElement) => v.muted),
    ).toBe(true);
    await expect.poll(() => tile(page, 'cam1').getByTestId('tile-placeholder').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'cameras-grid-desktop.png') });

    // A tile opens its camera large, at its deep link.
    await tile(page, 'cam2').click();
    await page.locator('[data-view="camera"]').waitFor();
    expect(new URL(page.url()).searchParams.get('camera')).toBe('cam2');
    expect(await page.getByTestId('camera-id').innerText()).toBe('cam2');
    await page.getByTestId('stream-state').and(page.locator('[data-state="idle"]')).waitFor();
    await page.getByTestId('start').click();
    await page
      .getByTestId('stream-state')
      .and(page.locator('[data-state="live"]'))
      .waitFor({ timeout: 15_000 });
    await expectFramesAdvance(page, '[data-testid="video"]');
    // The large view plays WebRTC by default (test/webrtc-browser.test.ts): cam2's own session.
    expect(await page.getByTestId('transport').getAttribute('data-transport')).toBe('webrtc');
    const metrics = (await system.api('/metrics')).body as string;
    expect(metrics).toMatch(/^camstream_webrtc_sessions\{camera="cam2"\} 1$/m);
    expect(metrics).not.toMatch(/^camstream_webrtc_sessions\{camera="cam1"\} [1-9]/m);
    await page.screenshot({ path: join(SHOTS, 'cameras-large-desktop.png') });

    // Back returns to the grid, where cam2 is live too.
    await page.goBack();
    await page.locator('[data-view="grid"]').waitFor();
    expect(new URL(page.url()).searchParams.has('camera')).toBe(false);
    await expect.poll(() => tileStates(page)).toEqual({ cam1: 'live', cam2: 'live', cam3: 'offline' });

    // Stop from the large view: only cam2's stream goes; "All cameras" leads back.
    await tile(page, 'cam2').click();
    await page.getByTestId('stream-state').and(page.locator('[data-state="live"]')).waitFor();
    await page.getByTestId('stop').click();
    await page
      .getByTestId('stream-state')
      .and(page.locator('[data-state="idle"]'))
      .waitFor({ timeout: 15_000 });
    expect((await system.api('/hls/cam2/stream.m3u8')).status).toBe(404);
    expect(((await system.api(cameraPaths('cam1').info)).body as StreamInfo).state).toBe('live');
    await page.getByTestId('all-cameras').click();
    await page.locator('[data-view="grid"]').waitFor();
    await expect.poll(() => tileStates(page)).toEqual({ cam1: 'live', cam2: 'idle', cam3: 'offline' });
    expect(pageErrors).toEqual([]);
  });

  test('the deep link opens that camera; an unknown id says so over the grid; a phone needs no sideways scrolling', async () => {
    await mkdir(SHOTS, { recursive: true });
    const system = await threeCameras(cleanup);
    expect((await system.api(cameraPaths('cam2').start, json())).status).toBe(200);
    const browser = await launchBrowser(cleanup, PHONE);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    await page.goto(system.baseUrl);
    await page.locator('[data-view="grid"]').waitFor();
    await expect.poll(() => tileStates(page)).toEqual({ cam1: 'idle', cam2: 'live', cam3: 'offline' });
    await expectFramesAdvance(page, '[data-camera-id="cam2"] [data-testid="tile-video"]');
    // One column on a phone: each tile as wide as the grid.
    const widths = await page.getByTestId('tile').evaluateAll((tiles) => tiles.map((t) => t.clientWidth));
    expect(new Set(widths).size).toBe(1);
    expect(widths[0]).toBeGreaterThan(PHONE.width * 0.85);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, 'cameras-grid-phone.png'), fullPage: true });

    // A live tile plays only while on screen: scrolled out of a short window, its player goes.
    const cam2Video = page.locator('[data-camera-id="cam2"] video');
    await page.setViewportSize({ width: PHONE.width, height: 200 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await expect.poll(() => cam2Video.count()).toBe(0);
    await expect.poll(() => tile(page, 'cam2').getByTestId('tile-placeholder').innerText()).toMatch(/live/i);
    await tile(page, 'cam2').scrollIntoViewIfNeeded();
    await expect.poll(() => cam2Video.count()).toBe(1);
    await page.setViewportSize(PHONE);

    // The deep link: that camera large, playing, with Start and Stop.
    await page.goto(`${system.baseUrl}/?camera=cam2`);
    await page.locator('[data-view="camera"]').waitFor();
    expect(await page.getByTestId('camera-id').innerText()).toBe('cam2');
    await page.getByTestId('stream-state').and(page.locator('[data-state="live"]')).waitFor();
    await expectFramesAdvance(page, '[data-testid="video"]');
    expect(await page.getByTestId('stop').isEnabled()).toBe(true);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, 'cameras-large-phone.png'), fullPage: true });
    // Opened straight from the link, "All cameras" still leads to the grid.
    await page.getByTestId('all-cameras').click();
    await page.locator('[data-view="grid"]').waitFor();

    await page.goto(`${system.baseUrl}/?camera=cam1`);
    await page.locator('[data-view="camera"]').waitFor();
    await expect.poll(() => page.getByTestId('camera-id').innerText()).toBe('cam1');
    await page.getByTestId('camera-state').and(page.locator('[data-state="idle"]')).waitFor();
    expect(await page.getByTestId('start').isEnabled()).toBe(true);

    // An unknown id, and one that could not be a camera: the message, over the grid.
    for (const id of ['cam9', '../etc']) {
      await page.goto(`${system.baseUrl}/?camera=${encodeURIComponent(id)}`);
      await page.getByTestId('unknown-camera').waitFor();
      expect(await page.getByTestId('unknown-camera').innerText()).toContain(id);
      expect(await page.getByTestId('tile').count()).toBe(3);
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    }
    await page.screenshot({ path: join(SHOTS, 'cameras-unknown-phone.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'cameras-unknown-phone-dark.png') });
    expect(pageErrors).toEqual([]);
  });

  test('one camera: today’s page, no grid; a camera that appears meanwhile adds a link to the grid and leaves the page alone', async () => {
    const rangePort = await freeUdpPort();
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      agent: false,
      webEnv: { UDP_PORT_RANGE: `${rangePort}-${rangePort}` },
    });
    const cam1 = await ForeignCamera.connect({
      mqttUrl: system.mqttUrl,
      cameraId: 'cam1',
      target: `udp://127.0.0.1:${system.udpPort}`,
    });
    cleanup.add(() => cam1.close());
    const browser = await launchBrowser(cleanup);
    const page = await browser.newPage();
    // Event streams open, by path: a browser allows 6 connections to a host across its tabs.
    const open = new Map<string, number>();
    const count = (url: string, by: number) => {
      const { pathname } = new URL(url);
      if (pathname.endsWith('/events')) open.set(pathname, (open.get(pathname) ?? 0) + by);
    };
    page.on('request', (request) => count(request.url(), 1));
    page.on('requestfailed', (request) => count(request.url(), -1));
    page.on('requestfinished', (request) => count(request.url(), -1));
    await page.goto(system.baseUrl);
    await page.locator('[data-view="single"]').waitFor();
    await page.getByTestId('camera-state').and(page.locator('[data-state="idle"]')).waitFor();
    expect(await page.getByTestId('all-cameras').count()).toBe(0);
    expect(await page.getByTestId('tile').count()).toBe(0);
    // Today's page holds one event stream, as before there were many cameras.
    await expect
      .poll(() => Object.fromEntries([...open].filter(([, n]) => n > 0)))
      .toEqual({ '/api/stream/events': 1 });

    // cam2 announces itself on the broker and is served: the page stays, with a link to the grid.
    const cam2 = await ForeignCamera.connect({
      mqttUrl: system.mqttUrl,
      cameraId: 'cam2',
      target: 'udp://127.0.0.1:9',
    });
    cleanup.add(() => cam2.close());
    await page.getByTestId('all-cameras').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-view="single"]').count()).toBe(1);
    await page.getByTestId('all-cameras').click();
    await page.locator('[data-view="grid"]').waitFor();
    await expect.poll(() => tileStates(page)).toEqual({ cam1: 'idle', cam2: 'idle' });

    // A fresh visit with two cameras opens on the grid.
    await page.reload();
    await page.locator('[data-view="grid"]').waitFor();
  });
});
