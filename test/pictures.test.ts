/**
 * Pictures of a camera from its one ingest (outputs/pictures/): snapshot.jpg, stream.mjpg and
 * stream.ts, end to end with the service and agent CLIs on the test source and a real Mosquitto.
 * Judged by outside tools: ffprobe decodes the snapshots and reads stream.ts as H.264, Chromium
 * shows the MJPEG in an `<img>` whose picture changes. A reader that never reads (a raw socket,
 * paused) is dropped and does not slow another; stopping the camera ends every response.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { tempDir, useCleanup } from './helpers/cleanup.js';
import { probeVideoStream } from './helpers/ffprobe.js';
import { json, startSystem, type System } from './helpers/system.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto', 'curl');
const haveChromium = ready && haveTools(CHROMIUM_PATH);
const execFileAsync = promisify(execFile);

async function metric(system: System, name: string): Promise<number> {
  const text = (await system.api('/metrics')).body as string;
  const match = new RegExp(`^${name}\\{camera="cam1"\\} (\\d+)$`, 'm').exec(text);
  return Number(match?.[1]);
}

/** A GET on a raw socket that is never read from: the server's writes back up. */
function stalledReader(system: System, path: string): Promise<Socket> {
  const { hostname, port } = new URL(system.baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
      socket.pause();
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/** Reads a streaming response for `ms`: the bytes, and the MJPEG parts (boundaries) counted. */
async function readFor(url: string, ms: number): Promise<{ bytes: number; parts: number; ended: boolean }> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  let bytes = 0;
  let parts = 0;
  let ended = false;
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      bytes += value.length;
      parts += Buffer.from(value).toString('latin1').split('--camstreamframe\r\n').length - 1;
    }
  } catch {
    // aborted: the time is up
  } finally {
    clearTimeout(timer);
  }
  return { bytes, parts, ended };
}

describe.runIf(ready)('pictures: snapshot.jpg, stream.mjpg, stream.ts', () => {
  const shared = useCleanup('file');
  const cleanup = useCleanup();
  let system: System;
  beforeAll(async () => {
    system = await startSystem(shared, {
      broker: 'mosquitto',
      webEnv: {
        WEBRTC: 'off',
        MJPEG_FPS: '15',
        MJPEG_QUALITY: '2',
        PICTURES_STALL_MS: '2000',
        RAW_MAX_READERS: '2',
      },
      // More bytes a second, so that a reader that never reads fills its socket's buffers sooner.
      agentEnv: { VIDEO_BITRATE: '6000000' },
    });
  }, 60_000);

  test('before any stream: no snapshot (404), no MJPEG or stream.ts (409), bad widths (400)', async () => {
    expect(await system.api('/api/cameras/cam1/snapshot.jpg')).toMatchObject({
      status: 404,
      body: { code: 'WEB_ERR_NO_SNAPSHOT' },
    });
    for (const path of ['/api/cameras/cam1/stream.mjpg', '/api/stream/stream.ts']) {
      expect(await system.api(path)).toMatchObject({ status: 409, body: { code: 'WEB_ERR_NOT_STREAMING' } });
    }
    for (const width of ['abc', '0', '-5', '99999', '1.5', '']) {
      expect(await system.api(`/api/stream/snapshot.jpg?width=${width}`)).toMatchObject({
        status: 400,
        body: { code: 'WEB_ERR_SNAPSHOT_WIDTH' },
      });
    }
    expect(await system.api('/api/stream/snapshot.jpg?size=5')).toMatchObject({ status: 400 });
    expect(await system.api('/api/cameras/nope/snapshot.jpg')).toMatchObject({ status: 404 });
  });

  test('live: a snapshot of the camera’s size that decodes, ?width scales it down; requests at once share a decode', async () => {
    expect(await system.api('/api/stream/start', json())).toMatchObject({ status: 200 });
    const started = performance.now();
    const response = await fetch(`${system.baseUrl}/api/cameras/cam1/snapshot.jpg`);
    const ms = Math.round(performance.now() - started);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(response.headers.get('last-modified')).toBeTruthy();
    const jpeg = Buffer.from(await response.arrayBuffer());
    expect(await probeVideoStream(jpeg)).toMatchObject({ codec_name: 'mjpeg', width: 640, height: 480 });
    console.log(`snapshot while live: ${jpeg.length} bytes in ${ms} ms`);

    const small = Buffer.from(
      await (await fetch(`${system.baseUrl}/api/stream/snapshot.jpg?width=320`)).arrayBuffer(),
    );
    expect(await probeVideoStream(small)).toMatchObject({ codec_name: 'mjpeg', width: 320, height: 240 });

    const decodes = await metric(system, 'camstream_snapshot_decodes_total');
    const requests = await metric(system, 'camstream_snapshot_requests_total');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${system.baseUrl}/api/cameras/cam1/snapshot.jpg`)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    await Promise.all(answers.map((a) => a.arrayBuffer()));
    expect(await metric(system, 'camstream_snapshot_requests_total')).toBe(requests + 20);
    // 20 requests at once: one decode (two if a newer frame came while the first was asked).
    expect(await metric(system, 'camstream_snapshot_decodes_total')).toBeLessThanOrEqual(decodes + 2);
  });

  test('stream.ts: ffprobe reads the camera’s H.264 in MPEG-TS', async () => {
    const stream = await probeVideoStream(`${system.baseUrl}/api/cameras/cam1/stream.ts`);
    expect(stream).toMatchObject({ codec_name: 'h264', width: 640, height: 480 });
  });

  test('curl fetches each URL: a JPEG, MJPEG parts, MPEG-TS that ffprobe reads', async () => {
    const dir = await tempDir(cleanup, 'camstream-curl-');
    /** curl for at most `seconds` (the streams never end: curl's exit 28, time is up, is expected). */
    const curl = async (path: string, seconds: number) => {
      const file = join(dir, path.replaceAll('/', '_'));
      const args = ['-sS', '-D', '-', '-o', file, '--max-time', String(seconds), system.baseUrl + path];
      const { stdout, code } = await execFileAsync('curl', args, { timeout: 20_000 }).then(
        ({ stdout }) => ({ stdout, code: 0 }),
        (err: { stdout: string; code: number }) => ({ stdout: err.stdout, code: err.code }),
      );
      return { headers: stdout.toLowerCase(), code, body: await readFile(file) };
    };
    const jpeg = await curl('/api/cameras/cam1/snapshot.jpg?width=160', 10);
    expect(jpeg).toMatchObject({ code: 0 });
    expect(jpeg.headers).toMatch(/^http\/1\.1 200.*\r\ncontent-type: image\/jpeg\r\n/s);
    expect(await probeVideoStream(jpeg.body)).toMatchObject({ codec_name: 'mjpeg', width: 160, height: 120 });
    const mjpeg = await curl('/api/stream/stream.mjpg', 2);
    expect(mjpeg.code).toBe(28);
    expect(mjpeg.headers).toContain('content-type: multipart/x-mixed-replace; boundary=camstreamframe');
    expect(mjpeg.body.toString('latin1').split('--camstreamframe\r\n').length).toBeGreaterThan(3);
    const ts = await curl('/api/cameras/cam1/stream.ts', 3);
    expect(ts.code).toBe(28);
    expect(ts.headers).toContain('content-type: video/mp2t');
    expect(await probeVideoStream(ts.body)).toMatchObject({ codec_name: 'h264', width: 640, height: 480 });
  });

  test('stream.ts readers beyond RAW_MAX_READERS get 503 WEB_ERR_RAW_MAX_READERS', async () => {
    const readers = [1, 2].map(() => readFor(`${system.baseUrl}/api/cameras/cam1/stream.ts`, 4000));
    await waitFor('two readers', async () => (await metric(system, 'camstream_rawts_readers')) === 2);
    expect(await system.api('/api/stream/stream.ts')).toMatchObject({
      status: 503,
      body: { code: 'WEB_ERR_RAW_MAX_READERS' },
    });
    for (const reader of await Promise.all(readers)) expect(reader.bytes).toBeGreaterThan(0);
    await waitFor('the readers gone', async () => (await metric(system, 'camstream_rawts_readers')) === 0);
  });

  test.runIf(haveChromium)('an <img> in Chromium shows the MJPEG, and its picture changes', async () => {
    const context = await launchBrowser(cleanup);
    const page = await context.newPage();
    // The service's own origin, so that the canvas may read the picture back.
    await page.goto(`${system.baseUrl}/api/stream`);
    const draw = () =>
      page.evaluate(() => {
        const img = document.querySelector('img')!;
        const canvas = document.createElement('canvas');
        [canvas.width, canvas.height] = [img.naturalWidth, img.naturalHeight];
        const context = canvas.getContext('2d')!;
        context.drawImage(img, 0, 0);
        return [img.naturalWidth, img.naturalHeight, canvas.toDataURL('image/png')] as const;
      });
    await page.evaluate((src) => {
      const img = document.createElement('img');
      img.src = src;
      document.body.append(img);
    }, '/api/cameras/cam1/stream.mjpg');
    await page.waitForFunction(() => document.querySelector('img')!.naturalWidth > 0, undefined, {
      timeout: 10_000,
    });
    const first = await draw();
    expect(first.slice(0, 2)).toEqual([640, 480]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const second = await draw();
    expect(second[2]).not.toBe(first[2]);
    expect(await metric(system, 'camstream_mjpeg_viewers')).toBe(1);
    await page.close();
  });

  test('a reader that never reads is dropped, and another reader is not slowed (MJPEG and stream.ts)', async () => {
    const mjpegDropped = await metric(system, 'camstream_mjpeg_dropped_total');
    const tsDropped = await metric(system, 'camstream_rawts_dropped_total');
    const stalled = [
      await stalledReader(system, '/api/cameras/cam1/stream.mjpg'),
      await stalledReader(system, '/api/cameras/cam1/stream.ts'),
    ];
    const closed = stalled.map((socket) => new Promise((resolve) => socket.once('close', resolve)));
    cleanup.add(() => stalled.forEach((socket) => socket.destroy()));
    const [mjpeg, ts] = await Promise.all([
      readFor(`${system.baseUrl}/api/cameras/cam1/stream.mjpg`, 8000),
      readFor(`${system.baseUrl}/api/cameras/cam1/stream.ts`, 8000),
    ]);
    console.log(
      `beside stalled readers, in 8 s: ${mjpeg.parts} MJPEG pictures, ${ts.bytes} bytes of stream.ts`,
    );
    // 15 a second asked; generous slack for a loaded machine.
    expect(mjpeg.parts).toBeGreaterThan(8 * 15 * 0.5);
    // 6 Mbit/s is 6 MB in 8 s.
    expect(ts.bytes).toBeGreaterThan(6_000_000 * 0.5);
    await waitFor(
      'the stalled readers to be dropped',
      async () => {
        const dropped = [
          (await metric(system, 'camstream_mjpeg_dropped_total')) - mjpegDropped,
          (await metric(system, 'camstream_rawts_dropped_total')) - tsDropped,
        ];
        return dropped[0] === 1 && dropped[1] === 1;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    // The server closed them: read what was buffered (a paused socket never sees the end).
    for (const socket of stalled) socket.resume();
    await Promise.all(closed);
  });

  test('stopping the camera ends every MJPEG and stream.ts response; the last snapshot stays', async () => {
    const readers = [
      readFor(`${system.baseUrl}/api/stream/stream.mjpg`, 20_000),
      readFor(`${system.baseUrl}/api/stream/stream.ts`, 20_000),
    ];
    await waitFor('two readers', async () => (await metric(system, 'camstream_mjpeg_viewers')) === 1);
    await waitFor(
      'the stream.ts reader',
      async () => (await metric(system, 'camstream_rawts_readers')) === 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stopped = performance.now();
    expect(await system.api('/api/stream/stop', json())).toMatchObject({ status: 200 });
    const [mjpeg, ts] = (await Promise.all(readers)) as [
      Awaited<(typeof readers)[0]>,
      Awaited<(typeof readers)[0]>,
    ];
    expect(performance.now() - stopped).toBeLessThan(10_000);
    expect(mjpeg).toMatchObject({ ended: true });
    expect(mjpeg.parts).toBeGreaterThan(0);
    expect(ts).toMatchObject({ ended: true });
    expect(ts.bytes).toBeGreaterThan(0);

    const last = await fetch(`${system.baseUrl}/api/cameras/cam1/snapshot.jpg?width=200`);
    expect(last.status).toBe(200);
    const modified = Date.parse(last.headers.get('last-modified')!);
    expect(Date.now() - modified).toBeLessThan(60_000);
    expect(await probeVideoStream(Buffer.from(await last.arrayBuffer()))).toMatchObject({
      width: 200,
      height: 150,
    });
    expect(await system.api('/api/stream/stream.mjpg')).toMatchObject({ status: 409 });
    // The MJPEG decoder went with the stream.
    expect(await metric(system, 'camstream_mjpeg_decoder_running')).toBe(0);
  });
});
