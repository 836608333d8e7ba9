/**
 * Pictures behind the door (AUTH_TOKENS set): snapshot.jpg, stream.mjpg and stream.ts need a
 * token like every other watch route, and take a signed stream URL's `?token=` (the one the API
 * puts on streamUrl) from players that cannot send headers: an `<img>` in real Chromium shows the
 * MJPEG and the snapshot with it, and gets nothing without it.
 */
import { describe, expect, test } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { useCleanup } from './helpers/cleanup.js';
import { json, startSystem } from './helpers/system.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto', CHROMIUM_PATH);
const OPERATOR = 'op-pictures-0123456789abcdef';
const VIEWER = 'view-pictures-0123456789abcdef';

describe.runIf(ready)('pictures with tokens: a signed ?token= for <img> tags', () => {
  const cleanup = useCleanup('file');

  test('401 without a token or with a bad one; the signed token opens each URL and an <img>', async () => {
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      token: OPERATOR,
      webEnv: { WEBRTC: 'off', AUTH_TOKENS: `operator:${OPERATOR},viewer:${VIEWER}` },
    });
    expect(await system.api('/api/stream/start', json())).toMatchObject({ status: 200 });
    const viewer = { headers: { authorization: `Bearer ${VIEWER}` } };
    const { body } = await system.api('/api/stream', viewer);
    const streamUrl = (body as { streamUrl: string }).streamUrl;
    const token = new URL(streamUrl, system.baseUrl).searchParams.get('token')!;
    expect(token).toMatch(/^\d+\.[\w-]{43}$/);

    const base = `${system.baseUrl}/api/cameras/cam1`;
    for (const file of ['snapshot.jpg', 'stream.mjpg', 'stream.ts']) {
      const none = await fetch(`${base}/${file}`);
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ code: 'WEB_ERR_UNAUTHORIZED' });
      expect((await fetch(`${base}/${file}?token=${VIEWER}`)).status).toBe(401);
      const signed = await fetch(`${base}/${file}?token=${token}`);
      expect(signed.status).toBe(200);
      await signed.body!.cancel();
    }
    const withHeader = await fetch(`${base}/snapshot.jpg?width=320`, viewer);
    expect(withHeader.status).toBe(200);

    const context = await launchBrowser(cleanup);
    const page = await context.newPage();
    await page.goto(`${system.baseUrl}/api/auth`); // public, and the service's own origin
    const load = (src: string) =>
      page.evaluate(
        (src) =>
          new Promise<number>((resolve) => {
            const img = document.createElement('img');
            img.onload = () => resolve(img.naturalWidth);
            img.onerror = () => resolve(-1);
            img.src = src;
            document.body.append(img);
          }),
        src,
      );
    expect(await load(`/api/cameras/cam1/stream.mjpg?token=${token}`)).toBe(640);
    expect(await load(`/api/stream/snapshot.jpg?width=320&token=${token}`)).toBe(320);
    expect(await load('/api/cameras/cam1/stream.mjpg')).toBe(-1);
    expect(await load(`/api/cameras/cam1/snapshot.jpg?token=${token.slice(0, -2)}xx`)).toBe(-1);
    await page.close();
    expect(await system.api('/api/stream/stop', json())).toMatchObject({ status: 200 });
  }, 90_000);
});
