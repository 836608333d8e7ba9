/**
 * WebRTC over WHEP, end to end: the service and agent CLIs on the test source with a real
 * Mosquitto, a werift viewer on loopback (test/helpers/whep-client.ts) that POSTs its offer, gets
 * 201 and the answer, receives the camera's frames (the first a keyframe with SPS and PPS ahead,
 * then 30 a second), and DELETEs its session; a killed segmenter (the viewer resumes by itself); a
 * shutdown with a viewer. The request table of the WHEP routes over HTTP. And,
 * when Debian's Chromium is there, a real browser page that plays the camera over WHEP.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  readStamp as readStampType,
  stampGeometry as stampGeometryType,
  stampToEpochMs as stampToEpochMsType,
} from '@camstream/protocol';
import { beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { useCleanup } from './helpers/cleanup.js';
import { json, ROOT, startSystem, type System } from './helpers/system.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';
import { whepViewer, connected } from './helpers/whep-client.js';
import { inboundVideo, playOverWhep } from './helpers/whep-page.js';
import { expectForward, sdp, sessionsGauge, watchCam1 } from './helpers/whep-session.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto');
const haveChromium = ready && haveTools(CHROMIUM_PATH);

describe.runIf(ready)('WebRTC (WHEP) from the camera’s ingest', () => {
  const shared = useCleanup('file');
  const cleanup = useCleanup();

  let system: System;
  beforeAll(async () => {
    system = await startSystem(shared, {
      broker: 'mosquitto',
      webEnv: { WEBRTC_INTERFACE: '127.0.0.1', WEBRTC_MAX_VIEWERS: '2' },
    });
  });

  test('not streaming yet: 409, in the service’s JSON, with CORS', async () => {
    const viewer = await whepViewer(cleanup);
    const answer = await system.api('/api/cameras/cam1/whep', sdp(viewer.offer));
    expect(answer).toMatchObject({ status: 409, body: { code: 'WEB_ERR_WHEP_NOT_STREAMING' } });
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(await sessionsGauge(system)).toBe(0);
  });

  test('a viewer gets 201, the answer and a Location; then the frames, from a keyframe, at 30 fps; DELETE ends it', async () => {
    expect(await system.api('/api/stream/start', json())).toMatchObject({ status: 200 });
    const viewer = await whepViewer(cleanup);
    const posted = performance.now();
    const response = await fetch(`${system.baseUrl}/api/cameras/cam1/whep`, sdp(viewer.offer));
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/sdp/);
    const location = response.headers.get('location')!;
    expect(location).toMatch(/^\/api\/cameras\/cam1\/whep\/[0-9a-f-]{36}$/);
    expect(response.headers.get('access-control-expose-headers')).toMatch(/location/i);
    const answer = await response.text();
    expect(answer).toMatch(/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/m);
    await viewer.accept(answer);
    await connected(viewer);
    await waitFor('the first frame', () => viewer.frames.length > 0);
    const firstFrameMs = viewer.frames[0]!.at - posted;
    const [first] = viewer.frames;
    expect(first!.keyframe).toBe(true);
    expect(first!.types.slice(0, 2)).toEqual([7, 8]);
    // Frames keep coming at the camera's rate: about 60 in 2 s, counted from 0.5 s after the first
    // (the catch-up from the last keyframe comes in a burst before that).
    await sleep(500);
    const before = viewer.frames.length;
    await sleep(2000);
    const got = viewer.frames.length - before;
    expect(got).toBeGreaterThanOrEqual(50);
    expect(got).toBeLessThanOrEqual(70);
    const spans = viewer.frames.slice(-30).map((f) => f.rtpTime);
    expect(spans.slice(1).every((t, i) => (t - spans[i]! + 2 ** 32) % 2 ** 32 === 3000)).toBe(true);
    console.log(`WHEP: first frame ${Math.round(firstFrameMs)} ms after the POST; ${got} frames in 2 s`);
    expect(await sessionsGauge(system)).toBe(1);

    expect((await fetch(`${system.baseUrl}${location}`, { method: 'DELETE' })).status).toBe(200);
    expect(await sessionsGauge(system)).toBe(0);
    const metrics = (await system.api('/metrics')).body as string;
    expect(metrics).toMatch(/^camstream_webrtc_sessions_total\{camera="cam1"\} 1$/m);
    expect(metrics).toMatch(/^camstream_webrtc_packets_sent_total\{camera="cam1"\} [1-9]\d*$/m);
    const after = viewer.frames.length;
    await sleep(500);
    expect(viewer.frames.length - after).toBeLessThanOrEqual(1);
    // The session is gone: a second DELETE is a 404.
    expect(await system.api(location, { method: 'DELETE' })).toMatchObject({
      status: 404,
      body: { code: 'WEB_ERR_WHEP_UNKNOWN_SESSION' },
    });
  });

  test('the request table: 415, 400, 404, 405, 503, and the CORS preflight', async () => {
    await system.api('/api/stream/start', json());
    const viewer = await whepViewer(cleanup);
    const post = (path: string, init: RequestInit) => system.api(path, init);
    expect(
      await post('/api/cameras/cam1/whep', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"sdp": 1}',
      }),
    ).toMatchObject({ status: 415, body: { code: 'WEB_ERR_WHEP_CONTENT_TYPE' } });
    expect(await post('/api/cameras/cam1/whep', { method: 'POST' })).toMatchObject({ status: 415 });
    expect(await post('/api/cameras/cam1/whep', sdp('garbage'))).toMatchObject({
      status: 400,
      body: { code: 'WEB_ERR_WHEP_BAD_OFFER' },
    });
    const vp8Only = viewer.offer
      .replace(/a=rtpmap:(\d+) H264\/90000/, 'a=rtpmap:$1 VP8/90000')
      .replace(/a=fmtp:.*\r?\n/, '');
    expect(await post('/api/cameras/cam1/whep', sdp(vp8Only))).toMatchObject({
      status: 400,
      body: { code: 'WEB_ERR_WHEP_BAD_OFFER', message: expect.stringMatching(/H\.264/) },
    });
    expect(await post('/api/cameras/cam1/whep', sdp('v=0\r\n' + 'a'.repeat(70_000)))).toMatchObject({
      status: 400,
    });
    expect(await post('/api/cameras/nope/whep', sdp(viewer.offer))).toMatchObject({
      status: 404,
      body: { code: 'WEB_ERR_UNKNOWN_CAMERA' },
    });
    expect(
      await system.api('/api/cameras/cam1/whep/00000000-0000-0000-0000-000000000000', { method: 'DELETE' }),
    ).toMatchObject({ status: 404, body: { code: 'WEB_ERR_WHEP_UNKNOWN_SESSION' } });
    expect(await sessionsGauge(system)).toBe(0);

    // Two viewers (WEBRTC_MAX_VIEWERS=2), the default camera's route; a third is 503.
    const locations: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const next = await whepViewer(cleanup);
      const response = await fetch(`${system.baseUrl}/api/stream/whep`, sdp(next.offer));
      expect(response.status).toBe(201);
      locations.push(response.headers.get('location')!);
    }
    expect(locations[0]).toMatch(/^\/api\/stream\/whep\/[0-9a-f-]{36}$/);
    expect(await post('/api/stream/whep', sdp(viewer.offer))).toMatchObject({
      status: 503,
      body: { code: 'WEB_ERR_WHEP_MAX_VIEWERS' },
    });
    const patched = await system.api(locations[0]!, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag' },
      body: 'a=end-of-candidates',
    });
    expect(patched).toMatchObject({ status: 405, body: { code: 'WEB_ERR_WHEP_NO_TRICKLE' } });
    const preflight = await fetch(`${system.baseUrl}/api/cameras/cam1/whep`, {
      method: 'OPTIONS',
      headers: { origin: 'http://elsewhere.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST.*DELETE/);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/content-type/);

    // The stream stops: every session ends with it.
    expect(await sessionsGauge(system)).toBe(2);
    expect(await system.api('/api/stream/stop', json())).toMatchObject({ status: 200 });
    expect(await sessionsGauge(system)).toBe(0);
    expect(await system.api(locations[1]!, { method: 'DELETE' })).toMatchObject({ status: 404 });
  });

  test('the segmenter killed: the viewer resumes by itself at the next keyframe, its clock going on', async () => {
    await system.api('/api/stream/start', json());
    const { viewer } = await watchCam1(system, cleanup);
    await waitFor('frames', () => viewer.frames.length > 10);
    const [pid] = await system.segmenterPids();
    process.kill(pid!, 'SIGKILL');
    const killedAt = performance.now();
    const before = viewer.frames.length;
    await waitFor(
      'frames after the restart',
      () => viewer.frames.filter((f) => f.at > killedAt + 300).length > 30,
      {
        timeoutMs: 20_000,
      },
    );
    const resumed = viewer.frames.slice(before).find((f) => f.at > killedAt + 300)!;
    const afterRestart = viewer.frames.slice(viewer.frames.indexOf(resumed));
    expect(afterRestart.find((f) => f.keyframe)!.types.slice(0, 2)).toEqual([7, 8]);
    // RTP time only goes forward across the restart.
    expectForward(viewer.frames);
    expect(await system.segmenterPids()).not.toContain(pid);
    expect(await sessionsGauge(system)).toBe(1);
  });

  test('shutdown with a viewer watching: the service exits at once and cleanly', async () => {
    await system.api('/api/stream/start', json());
    const { viewer } = await watchCam1(system, cleanup);
    await waitFor('frames', () => viewer.frames.length > 0);
    const began = performance.now();
    expect(await system.web.stop('SIGTERM', 10_000)).toEqual({ code: 0, signal: null });
    expect(performance.now() - began).toBeLessThan(5000);
    const after = viewer.frames.length;
    await sleep(300);
    expect(viewer.frames.length).toBe(after);
  });
});

interface StampModule {
  readStamp: typeof readStampType;
  stampGeometry: typeof stampGeometryType;
  stampToEpochMs: typeof stampToEpochMsType;
}

/** In the page: glass-to-glass latency of each frame shown for `ms`, from the stamp in its top band. */
async function glassToGlass(ms: number): Promise<number[]> {
  // Not `import()`: vitest would rewrite it, and this function runs in the page.
  const load = new Function('url', 'return import(url)') as (url: string) => Promise<StampModule>;
  const { readStamp, stampGeometry, stampToEpochMs } = await load(`${location.origin}/stamp.js`);
  const video = document.querySelector('video')!;
  const context = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
  const latencies: number[] = [];
  const end = performance.now() + ms;
  await new Promise<void>((resolve) => {
    const onFrame = (_now: number, frame: VideoFrameCallbackMetadata) => {
      const shownAt = performance.timeOrigin + frame.expectedDisplayTime;
      const { width, height } = frame;
      const rows = Math.ceil(stampGeometry(width).height);
      context.canvas.width = width;
      context.canvas.height = rows;
      context.drawImage(video, 0, 0, width, rows, 0, 0, width, rows);
      const data = context.getImageData(0, 0, width, rows).data;
      const luma = (x: number, y: number) => {
        const i = (y * width + x) * 4;
        return 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      };
      const value = readStamp(luma, width, height);
      if (value !== undefined) latencies.push(shownAt - stampToEpochMs(value, Date.now()));
      if (performance.now() < end) video.requestVideoFrameCallback(onFrame);
      else resolve();
    };
    video.requestVideoFrameCallback(onFrame);
  });
  return latencies;
}

describe.runIf(haveChromium)('WebRTC (WHEP) in Chromium', () => {
  const cleanup = useCleanup();

  test('a page on another origin plays the camera over WHEP: frames decoded, and more each second', async () => {
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      webEnv: { WEBRTC_INTERFACE: '127.0.0.1' },
    });
    expect(await system.api('/api/stream/start', json())).toMatchObject({ status: 200 });
    const context = await launchBrowser(cleanup);
    // Another origin: a blank page from a server of its own.
    // It also serves the protocol's stamp reader (pure ESM) to the page.
    const stampJs = await readFile(join(ROOT, 'packages/protocol/dist/stamp.js'), 'utf8');
    const other = createServer((request, response) => {
      if (request.url === '/stamp.js') response.setHeader('content-type', 'text/javascript').end(stampJs);
      else response.end('<!doctype html><title>viewer</title>');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => {
      other.closeAllConnections();
      return new Promise((resolve) => other.close(resolve));
    });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
    const began = performance.now();
    const posted = await page.evaluate(playOverWhep, `${system.baseUrl}/api/stream/whep`);
    expect(posted.status).toBe(201);
    expect(posted.location).toMatch(/^\/api\/stream\/whep\//);
    const first = await waitFor(`Chromium to decode a frame\n${system.web.output()}`, async () => {
      const stats = await page.evaluate(inboundVideo);
      // The stats may count the first decoded frame a poll before they give its size.
      return stats.framesDecoded > 0 && stats.frameWidth > 0 && stats;
    });
    expect(first.frameWidth).toBe(640); // the agent's default VIDEO_WIDTH
    console.log(
      `WHEP in Chromium: first frame decoded ${Math.round(performance.now() - began)} ms after the offer was made`,
    );
    await sleep(2000);
    const later = await page.evaluate(inboundVideo);
    // About 60 more in 2 s at 30 fps.
    expect(later.framesDecoded - first.framesDecoded).toBeGreaterThanOrEqual(45);
    expect(await sessionsGauge(system)).toBe(1);
    // Glass to glass: the test source's capture-time stamp, read off each frame as it is shown.
    const latencies = (await page.evaluate(glassToGlass, 4000)).sort((a, b) => a - b);
    expect(latencies.length).toBeGreaterThanOrEqual(60);
    const median = latencies[Math.floor(latencies.length / 2)]!;
    const p95 = latencies[Math.floor(latencies.length * 0.95)]!;
    console.log(
      `WHEP in Chromium: glass to glass median ${Math.round(median)} ms, p95 ${Math.round(p95)} ms (${latencies.length} frames)`,
    );
    // Real time, not HLS (seconds): the figures themselves are the bench's business.
    expect(median).toBeLessThan(1000);
    // The page goes away without a DELETE: closing its peer connection ends the session.
    const closedAt = performance.now();
    await page.close();
    await waitFor('the session to end', async () => (await sessionsGauge(system)) === 0, {
      timeoutMs: 20_000,
    });
    console.log(
      `WHEP in Chromium: the session ended ${Math.round(performance.now() - closedAt)} ms after the page closed`,
    );
  });
});
