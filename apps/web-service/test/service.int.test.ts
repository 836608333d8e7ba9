/**
 * The service end to end, in-process (buildApp, real sockets on port 0), with real ffmpeg and a real
 * Mosquitto, or the embedded broker. The camera agent is replaced by a stand-in (fake-camera.ts: an
 * MQTT participant answering like the agent, sending a real MPEG-TS stream with ffmpeg) so these
 * tests exercise the service alone; the real agent is covered by the cross-app suites in test/.
 * What is about files in HLS_DIR runs with HLS_MODE=plain; each such behaviour has its LL-HLS
 * counterpart (the default), where nothing is written and the playlist is served from memory.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { connectAsync } from 'mqtt';
import { describe, expect, test } from 'vitest';
import { parseCommandEvent } from '@camstream/protocol';
import { startTestApp, type TestApp } from './helpers/app.js';
import { useCleanup, type Cleanup } from '../../../test/helpers/cleanup.js';
import { startFakeCamera } from './helpers/fake-camera.js';
import { startMosquitto } from '../../../test/helpers/mosquitto.js';
import {
  completeSegments,
  judgeLlHlsPlaylist,
  parseMediaPlaylist,
  type MediaPlaylist,
} from '../../../test/helpers/ll-hls.js';
import { decodeHls, expectPlayableByFfmpeg, probeHls } from '../../../test/helpers/player.js';
import { freeUdpPort } from '../../../test/helpers/ports.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { waitFor } from '../../../test/helpers/wait.js';

const execFileAsync = promisify(execFile);
const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto', 'mosquitto_pub');

interface Service extends TestApp {
  readonly base: string;
  api(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }>;
  files(): Promise<string[]>;
  playlist(): Promise<{ status: number; text: string }>;
}

async function startService(cleanup: Cleanup, env: Record<string, string>): Promise<Service> {
  const testApp = await startTestApp(cleanup, env, { listen: true });
  const base = `http://127.0.0.1:${(testApp.app.server.address() as AddressInfo).port}`;
  return {
    ...testApp,
    base,
    async api(path, init) {
      const response = await fetch(`${base}${path}`, init);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    files: async () => (await readdir(testApp.hlsDir)).sort(),
    async playlist() {
      const response = await fetch(`${base}/hls/stream.m3u8`);
      return { status: response.status, text: await response.text() };
    },
  };
}

/**
 * The LL-HLS playlist, which lists a complete segment whenever the stream is live: the service goes
 * live (and answers a start) once the run's first segment is listed. Players without LL support
 * need one: given parts alone, ffmpeg's HLS demuxer reports "Empty segment" and finds no stream.
 */
async function segmentListed(service: Service): Promise<MediaPlaylist> {
  const { status, text } = await service.playlist();
  expect(status).toBe(200);
  const playlist = parseMediaPlaylist(text);
  expect(completeSegments(playlist).length, text).toBeGreaterThan(0);
  return playlist;
}

/** The stream is gone in either mode: idle, the playlist 404, no segmenter, nothing in HLS_DIR. */
async function expectGone(service: Service): Promise<void> {
  expect((await service.api('/api/stream')).body).toMatchObject({ state: 'idle' });
  expect((await service.playlist()).status).toBe(404);
  expect(await service.segmenterPids()).toEqual([]);
  expect(await service.files()).toEqual([]);
}

const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };

describe.runIf(ready)('the service with Mosquitto', () => {
  const cleanup = useCleanup();

  async function setup(
    env: Record<string, string> = {},
    camera: { rejectStarts?: string; target?: string } = {},
  ) {
    const broker = await startMosquitto();
    cleanup.add(() => broker.stop());
    const service = await startService(cleanup, { MQTT_URL: broker.url, ...env });
    const fake = await startFakeCamera(cleanup, {
      mqttUrl: broker.url,
      target: camera.target ?? service.config.udpListen,
      ...(camera.rejectStarts !== undefined && { rejectStarts: camera.rejectStarts }),
    });
    await waitFor('the service to hear the camera', async () => {
      const { body } = await service.api('/api/stream');
      return (body.camera as { state?: string } | null)?.state === 'idle';
    });
    return { broker, service, fake };
  }

  test('HLS_MODE=plain: start → live with a playable playlist; stop → files gone', async () => {
    const { service, fake } = await setup({ HLS_MODE: 'plain' });

    // Concurrent starts share one wait and one segmenter.
    const began = performance.now();
    const [first, second] = await Promise.all([
      service.api('/api/stream/start', post),
      service.api('/api/stream/start', { method: 'POST' }),
    ]);
    const startMs = performance.now() - began;
    console.info(`start → live: ${startMs.toFixed(0)} ms`);
    expect(first).toEqual({ status: 200, body: { state: 'live', streamUrl: '/hls/stream.m3u8' } });
    expect(second).toEqual(first);
    expect(await service.segmenterPids()).toHaveLength(1);
    expect(fake.commands.filter((c) => c.action === 'start')).toHaveLength(1);
    expect(fake.commands[0]).not.toHaveProperty('target'); // CAMERA_TARGET unset: the agent's own

    // Playable the moment the answer came.
    const playlist = await fetch(`${service.base}/hls/stream.m3u8`);
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(playlist.headers.get('cache-control')).toBe('no-cache');
    expect(playlist.headers.get('access-control-allow-origin')).toBe('*');
    const text = await playlist.text();
    expect(text).toMatch(/#EXT-X-PROGRAM-DATE-TIME:/);
    expect(text).toMatch(/#EXT-X-INDEPENDENT-SEGMENTS/);
    const segment = text.split('\n').find((line) => line !== '' && !line.startsWith('#'))!;
    const media = await fetch(`${service.base}/hls/${segment}`);
    expect(media.status).toBe(200);
    expect(media.headers.get('content-type')).toBe('video/mp4');
    expect(media.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // fMP4: a segment begins with its first frame's moof.
    expect(Buffer.from(await media.arrayBuffer()).toString('latin1', 4, 8)).toBe('moof');

    expect((await service.api('/api/stream')).body).toMatchObject({
      state: 'live',
      streamUrl: '/hls/stream.m3u8',
      camera: { state: 'streaming' },
    });
    await expectPlayableByFfmpeg(`${service.base}/hls/stream.m3u8`, {
      seconds: 3.5,
      minSeconds: 3,
      minFrames: 3 * 30 * 0.9,
    });

    expect(await service.api('/api/stream/start', post)).toMatchObject({ status: 200 }); // live: no-op
    expect(await service.api('/api/stream/stop', post)).toEqual({ status: 200, body: { state: 'idle' } });
    expect(await service.files()).toEqual([]);
    expect(await service.segmenterPids()).toEqual([]);
    expect((await fetch(`${service.base}/hls/stream.m3u8`)).status).toBe(404);
    await waitFor('the camera to stop', () => fake.sendingTo() === undefined);
    expect(fake.commands.map((c) => c.action)).toEqual(['start', 'stop']);
  });

  test('LL-HLS: start → live once a segment is listed, served from memory; ffmpeg decodes it; stop → 404, no ffmpeg', async () => {
    const { service, fake } = await setup();

    // Concurrent starts share one wait and one segmenter.
    const began = performance.now();
    const [first, second] = await Promise.all([
      service.api('/api/stream/start', post),
      service.api('/api/stream/start', { method: 'POST' }),
    ]);
    console.info(`start → first segment listed: ${(performance.now() - began).toFixed(0)} ms`);
    expect(first).toEqual({ status: 200, body: { state: 'live', streamUrl: '/hls/stream.m3u8' } });
    expect(second).toEqual(first);
    expect(await service.segmenterPids()).toHaveLength(1);
    expect(fake.commands.filter((c) => c.action === 'start')).toHaveLength(1);

    // Playable the moment the answer came, by any player: a segment and its parts listed and served.
    const response = await fetch(`${service.base}/hls/stream.m3u8`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const judgement = judgeLlHlsPlaylist(await response.text());
    expect(judgement.violations).toEqual([]);
    expect(completeSegments(judgement.playlist!).length).toBeGreaterThan(0);
    // The stream's first segment is listed without its part (the quick start): fetched whole.
    const [segment] = judgement.playlist!.segments;
    const media = await fetch(`${service.base}/hls/${segment!.uri}`);
    expect(media.status).toBe(200);
    expect(media.headers.get('content-type')).toBe('video/mp4');
    expect(media.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await media.arrayBuffer()).toString('latin1', 4, 8)).toBe('moof');
    const init = await fetch(`${service.base}/hls/${segment!.map.uri}`);
    expect(init.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await init.arrayBuffer()).toString('latin1', 4, 8)).toBe('ftyp');
    expect((await service.api('/api/stream')).body).toMatchObject({
      state: 'live',
      streamUrl: '/hls/stream.m3u8',
      hlsMode: 'll',
      camera: { state: 'streaming' },
    });

    // Players without LL support: ffprobe, then ffmpeg decoding.
    await expectPlayableByFfmpeg(`${service.base}/hls/stream.m3u8`, {
      seconds: 3.5,
      minSeconds: 3,
      minFrames: 3 * 30 * 0.9,
    });
    expect(await service.files()).toEqual([]); // nothing is written in LL-HLS mode

    expect(await service.api('/api/stream/start', post)).toMatchObject({ status: 200 }); // live: no-op
    expect(await service.api('/api/stream/stop', post)).toEqual({ status: 200, body: { state: 'idle' } });
    await expectGone(service);
    expect((await fetch(`${service.base}/hls/${segment!.uri}`)).status).toBe(404);
    await waitFor('the camera to stop', () => fake.sendingTo() === undefined);
    expect(fake.commands.map((c) => c.action)).toEqual(['start', 'stop']);
  });

  test('camera offline: a fast 503, nothing spawned', async () => {
    const { service, fake } = await setup();
    await fake.goOffline();
    await waitFor('the service to hear the camera go offline', async () => {
      const { body } = await service.api('/api/stream');
      return (body.camera as { state?: string } | null)?.state === 'offline';
    });
    const began = Date.now();
    const answer = await service.api('/api/stream/start', post);
    expect(Date.now() - began).toBeLessThan(1000);
    expect(answer).toMatchObject({ status: 503, body: { code: 'WEB_ERR_CAMERA_OFFLINE', statusCode: 503 } });
    expect(await service.segmenterPids()).toEqual([]);
    expect(await service.files()).toEqual([]);
  });

  test('the camera never sends: 504 after START_TIMEOUT_MS, and a stop command is published', async () => {
    const nowhere = `udp://127.0.0.1:${await freeUdpPort()}`;
    const { service, fake } = await setup({ START_TIMEOUT_MS: '2000' }, { target: nowhere });
    const began = Date.now();
    const answer = await service.api('/api/stream/start', post);
    expect(Date.now() - began).toBeGreaterThanOrEqual(2000);
    expect(answer).toMatchObject({ status: 504, body: { code: 'WEB_ERR_MANIFEST_TIMEOUT' } });
    await waitFor('the stop command', () => fake.commands.some((c) => c.action === 'stop'));
    await waitFor('the camera to stop', () => fake.sendingTo() === undefined);
    expect(await service.files()).toEqual([]);
    expect(await service.segmenterPids()).toEqual([]);
    expect((await service.playlist()).status).toBe(404);
    expect((await service.api('/api/stream')).body).toMatchObject({
      state: 'idle',
      lastError: { code: 'WEB_ERR_MANIFEST_TIMEOUT' },
    });
  });

  test('the camera refuses: 502 with its reason', async () => {
    const { service } = await setup({}, { rejectStarts: 'sensor not detected' });
    const answer = await service.api('/api/stream/start', post);
    expect(answer).toMatchObject({
      status: 502,
      body: { code: 'WEB_ERR_CAMERA_REJECTED', message: expect.stringContaining('sensor not detected') },
    });
    expect(await service.segmenterPids()).toEqual([]);
  });

  test('CAMERA_TARGET goes into the start command', async () => {
    const { service, fake } = await setup({ CAMERA_TARGET: 'udp://127.0.0.1:1' });
    // The camera sends where it is told (nowhere useful): the start times out, which is not the point.
    const answer = service.api('/api/stream/start', post);
    await waitFor('the start command', () => fake.commands.length > 0);
    expect(fake.commands[0]).toMatchObject({ action: 'start', target: 'udp://127.0.0.1:1' });
    await service.api('/api/stream/stop', post);
    expect((await answer).body).toMatchObject({ code: 'WEB_ERR_START_CANCELLED' });
  });

  test.each(['plain', 'll'])(
    'HLS_MODE=%s: a start published with mosquitto_pub is served at /hls/stream.m3u8; its stop removes it',
    async (mode) => {
      const { broker, service, fake } = await setup({ HLS_MODE: mode });
      const pub = (message: string) =>
        execFileAsync('mosquitto_pub', [
          '-p',
          String(broker.port),
          '-q',
          '1',
          '-t',
          'cameras/cam1/control',
          '-m',
          message,
        ]);

      await pub(JSON.stringify({ id: 'user-start-1', action: 'start' }));
      await waitFor(
        'the service to go live by itself',
        async () => (await service.api('/api/stream')).body.state === 'live',
      );
      const playlist = await fetch(`${service.base}/hls/stream.m3u8`);
      expect(playlist.status).toBe(200);
      const text = await playlist.text();
      if (mode === 'plain') expect(text).toMatch(/#EXTINF:/);
      else expect(judgeLlHlsPlaylist(text).violations).toEqual([]);
      if (mode === 'll') await segmentListed(service);
      const decoded = await decodeHls(`${service.base}/hls/stream.m3u8`, 2);
      expect(decoded.seconds).toBeGreaterThanOrEqual(1.9);
      expect(fake.commands.map((c) => c.id)).toEqual(['user-start-1']); // the service published nothing

      await pub(JSON.stringify({ id: 'user-stop-1', action: 'stop' }));
      await waitFor('the service to remove the stream', async () => {
        const { body } = await service.api('/api/stream');
        return (
          body.state === 'idle' &&
          (await service.files()).length === 0 &&
          (await service.playlist()).status === 404
        );
      });
      await expectGone(service);
    },
  );

  test('HLS_MODE=plain: a segmenter killed while live is restarted and the stream plays on', async () => {
    const { broker, service } = await setup({ HLS_MODE: 'plain' });
    expect((await service.api('/api/stream/start', post)).status).toBe(200);
    const [pid] = await service.segmenterPids();
    const before = await (await fetch(`${service.base}/hls/stream.m3u8`)).text();
    process.kill(pid!, 'SIGKILL');

    await waitFor(
      'a new segmenter with a continued playlist',
      async () => {
        const pids = await service.segmenterPids();
        if (pids.length !== 1 || pids[0] === pid) return false;
        const text = await (await fetch(`${service.base}/hls/stream.m3u8`)).text();
        return text.includes('#EXT-X-DISCONTINUITY') && text;
      },
      { timeoutMs: 20_000 },
    );
    const sequence = (text: string) => Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);
    const after = await (await fetch(`${service.base}/hls/stream.m3u8`)).text();
    expect(sequence(after)).toBeGreaterThan(sequence(before)); // never goes back: players keep going
    expect((await service.api('/api/stream')).body).toMatchObject({ state: 'live' });
    expect((await decodeHls(`${service.base}/hls/stream.m3u8`, 1.5)).seconds).toBeGreaterThanOrEqual(1.4);

    // Invalid payloads on the camera's topics are ignored, never fatal.
    const intruder = await connectAsync(broker.url, { protocolVersion: 4 });
    cleanup.add(() => intruder.endAsync());
    await intruder.publishAsync('cameras/cam1/status', '{"state":"dancing"', { qos: 1 });
    await intruder.publishAsync('cameras/cam1/events', 'not json', { qos: 1 });
    expect(parseCommandEvent('not json').ok).toBe(false);
    expect((await service.api('/api/stream')).body).toMatchObject({
      state: 'live',
      camera: { state: 'streaming' },
    });
  });

  test('LL-HLS: a segmenter killed while live is restarted; the playlist goes on after EXT-X-DISCONTINUITY with a new EXT-X-MAP', async () => {
    const { service } = await setup();
    expect((await service.api('/api/stream/start', post)).status).toBe(200);
    const before = await segmentListed(service);
    const [pid] = await service.segmenterPids();
    const oldMap = before.segments[0]!.map.uri;
    process.kill(pid!, 'SIGKILL');

    // Every reload meanwhile, hls-parser's reading of it judged against the one before.
    let previous = before;
    const after = await waitFor(
      'a new segmenter, and its parts after a discontinuity',
      async () => {
        const { status, text } = await service.playlist();
        expect(status).toBe(200); // the playlist stays up while the segmenter is replaced
        const judgement = judgeLlHlsPlaylist(text, previous);
        expect(judgement.violations).toEqual([]);
        previous = judgement.playlist!;
        const pids = await service.segmenterPids();
        if (pids.length !== 1 || pids[0] === pid) return false;
        const restarted = previous.segments.findIndex((s) => s.discontinuity);
        return restarted >= 0 && previous.segments.at(-1)!.map.uri !== oldMap && previous;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const index = after.segments.findIndex((s) => s.discontinuity);
    const first = after.segments[index]!;
    expect(first.map.uri).not.toBe(oldMap);
    expect(after.segments[index - 1]?.map.uri).toBe(oldMap);
    // Media sequence numbers never go back: the new run continues after the old one's last segment.
    const lastBefore = before.segments.at(-1)!.mediaSequenceNumber;
    expect(first.mediaSequenceNumber).toBeGreaterThan(lastBefore);
    expect(after.mediaSequenceBase!).toBeGreaterThanOrEqual(before.mediaSequenceBase!);
    expect(new Set(after.segments.map((s) => s.map.uri)).size).toBe(2);
    expect((await service.api('/api/stream')).body).toMatchObject({ state: 'live', hlsMode: 'll' });

    // ffmpeg, a player without LL support, plays on once the new run has a segment listed.
    await waitFor(
      'a complete segment of the new run',
      async () => {
        const playlist = parseMediaPlaylist((await service.playlist()).text);
        return completeSegments(playlist).some((s) => s.map.uri !== oldMap);
      },
      { timeoutMs: 10_000 },
    );
    expect((await decodeHls(`${service.base}/hls/stream.m3u8`, 1.5)).seconds).toBeGreaterThanOrEqual(1.4);
    expect(await service.segmenterPids()).not.toContain(pid);
  });
});

describe.runIf(ready)('the service with its embedded broker', () => {
  const cleanup = useCleanup();

  test.each(['plain', 'll'])(
    'HLS_MODE=%s: start → live → ffprobe reads the playlist → stop',
    async (mode) => {
      const service = await startService(cleanup, { EMBEDDED_BROKER_PORT: '0', HLS_MODE: mode });
      const mqttUrl = service.app.camstream.mqttUrl;
      expect(mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
      await startFakeCamera(cleanup, { mqttUrl, target: service.config.udpListen });
      await waitFor('the camera', async () => (await service.api('/api/stream')).body.camera !== null);

      expect(await service.api('/api/stream/start', post)).toMatchObject({
        status: 200,
        body: { state: 'live' },
      });
      expect((await service.api('/api/stream')).body).toMatchObject({ state: 'live', hlsMode: mode });
      if (mode === 'll') await segmentListed(service);
      expect(await probeHls(`${service.base}/hls/stream.m3u8`)).toMatchObject({ codec_name: 'h264' });
      expect(await service.api('/api/stream/stop', post)).toMatchObject({ status: 200 });
      await expectGone(service);
    },
  );
});
