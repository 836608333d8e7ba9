/**
 * The service end to end, in-process (buildApp, real sockets on port 0), with real ffmpeg and a real
 * Mosquitto, or the embedded broker. The camera agent is replaced by a stand-in (fake-camera.ts: an
 * MQTT participant answering like the agent, sending a real MPEG-TS stream with ffmpeg) so these
 * tests exercise the service alone; the real agent is covered by the cross-app suites in test/.
 * What is about files in HLS_DIR runs with HLS_MODE=plain; each such behaviour has its LL-HLS
 * counterpart (the default), where nothing is written and the playlist is served from memory.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { useCleanup } from '../../../test/helpers/cleanup.js';
import { startFakeCamera } from './helpers/fake-camera.js';
import { completeSegments, judgeLlHlsPlaylist } from '../../../test/helpers/ll-hls.js';
import { decodeHls, expectPlayableByFfmpeg, probeHls } from '../../../test/helpers/player.js';
import { freeUdpPort } from '../../../test/helpers/ports.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { expectGone, post, segmentListed, startService, startWithMosquitto } from './helpers/service.js';

const execFileAsync = promisify(execFile);
const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto', 'mosquitto_pub');

describe.runIf(ready)('the service with Mosquitto', () => {
  const cleanup = useCleanup();

  test('HLS_MODE=plain: start → live with a playable playlist; stop → files gone', async () => {
    const { service, fake } = await startWithMosquitto(cleanup, { HLS_MODE: 'plain' });

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
    expect(playlist.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=1');
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
    const { service, fake } = await startWithMosquitto(cleanup);

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
    expect(response.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=1');
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
    const { service, fake } = await startWithMosquitto(cleanup);
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
    const { service, fake } = await startWithMosquitto(
      cleanup,
      { START_TIMEOUT_MS: '2000' },
      { target: nowhere },
    );
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
    const { service } = await startWithMosquitto(cleanup, {}, { rejectStarts: 'sensor not detected' });
    const answer = await service.api('/api/stream/start', post);
    expect(answer).toMatchObject({
      status: 502,
      body: { code: 'WEB_ERR_CAMERA_REJECTED', message: expect.stringContaining('sensor not detected') },
    });
    expect(await service.segmenterPids()).toEqual([]);
  });

  test('CAMERA_TARGET goes into the start command', async () => {
    const { service, fake } = await startWithMosquitto(cleanup, { CAMERA_TARGET: 'udp://127.0.0.1:1' });
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
      const { broker, service, fake } = await startWithMosquitto(cleanup, { HLS_MODE: mode });
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
