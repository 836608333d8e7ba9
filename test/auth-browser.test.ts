/**
 * Signing in, as a person meets it in Chromium: the service with tokens configured shows the sign-in
 * screen; a wrong token is answered in a sentence; a viewer watches the live stream and is offered no
 * Start or Stop; an operator starts it; Sign out returns to the sign-in screen. Screenshots of the
 * sign-in screen (desktop and phone) and of a viewer's page land in test-results/.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { useCleanup } from './helpers/cleanup.js';
import { json, ROOT, startSystem } from './helpers/system.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', CHROMIUM_PATH);
const SHOTS = join(ROOT, 'test-results');
const OPERATOR = 'op-browser-0123456789abcdef';
const VIEWER = 'view-browser-0123456789abcdef';

const videoTime = (page: Page) =>
  page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid="video"]')?.currentTime ?? 0);

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByTestId('token').fill(token);
  await page.getByTestId('sign-in').click();
}

describe.runIf(ready)('signing in, in Chromium', () => {
  const cleanup = useCleanup();

  test('sign-in screen, a wrong token, a viewer, an operator, sign-out', async () => {
    await mkdir(SHOTS, { recursive: true });
    const system = await startSystem(cleanup, {
      broker: 'embedded',
      token: OPERATOR,
      webEnv: { AUTH_TOKENS: `operator:${OPERATOR},viewer:${VIEWER}` },
    });
    const browser = await launchBrowser(cleanup);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    await page.goto(system.baseUrl);
    await page.getByTestId('token').waitFor();
    await page.screenshot({ path: join(SHOTS, 'auth-sign-in.png') });

    await signIn(page, 'wrong-0123456789abcdef');
    const notice = page.getByTestId('sign-in-notice');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/[A-Z].*\w.*\./);
    await page.screenshot({ path: join(SHOTS, 'auth-wrong-token.png') });

    // The stream is live (started through the API); a viewer sees it and no Start or Stop.
    expect((await system.api('/api/stream/start', json())).status).toBe(200);
    await signIn(page, VIEWER);
    await page.getByTestId('session-role').and(page.locator('[data-role="viewer"]')).waitFor();
    await waitFor('the video to play for the viewer', async () => (await videoTime(page)) > 0.5, {
      timeoutMs: 20_000,
    });
    expect(await page.getByTestId('start').count()).toBe(0);
    expect(await page.getByTestId('stop').count()).toBe(0);
    // The link for other players is the signed one (a bare URL would be refused to them).
    const link = page.getByTestId('player-link').locator('a');
    await link.waitFor();
    const href = (await link.getAttribute('href'))!;
    expect(href).toMatch(/\/hls\/stream\.m3u8\?token=\d+\./);
    expect((await fetch(new URL(href, system.baseUrl))).status).toBe(200);
    await page.screenshot({ path: join(SHOTS, 'auth-viewer.png') });

    // Sign out: back to the sign-in screen; the token is gone from the browser.
    await page.getByTestId('sign-out').click();
    await page.getByTestId('token').waitFor();
    expect(await page.evaluate(() => window.localStorage.length)).toBe(0);

    // An operator: Stop and Start are offered and work.
    await signIn(page, OPERATOR);
    await page.getByTestId('session-role').and(page.locator('[data-role="operator"]')).waitFor();
    await page.getByTestId('stop').click();
    await page
      .getByTestId('stream-state')
      .and(page.locator('[data-state="idle"]'))
      .waitFor({ timeout: 15_000 });
    await page.getByTestId('start').click();
    await page
      .getByTestId('stream-state')
      .and(page.locator('[data-state="live"]'))
      .waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(SHOTS, 'auth-operator.png') });
    await page.getByTestId('sign-out').click();
    await page.getByTestId('token').waitFor();
    expect(pageErrors).toEqual([]);
  }, 120_000);

  test('the sign-in screen on a phone', async () => {
    await mkdir(SHOTS, { recursive: true });
    const system = await startSystem(cleanup, {
      broker: 'embedded',
      agent: false,
      token: OPERATOR,
      webEnv: { AUTH_TOKENS: `operator:${OPERATOR}` },
    });
    const browser = await launchBrowser(cleanup, { width: 390, height: 844 });
    const page = await browser.newPage();
    await page.goto(system.baseUrl);
    await page.getByTestId('token').waitFor();
    // Nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SHOTS, 'auth-sign-in-phone.png') });
  }, 60_000);
});
