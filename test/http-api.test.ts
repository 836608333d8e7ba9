/**
 * The HTTP API end to end: real Mosquitto, real agent (test source) and service CLIs, real ffmpeg.
 * Files in HLS_DIR are plain HLS's (HLS_MODE=plain); LL-HLS, the default, serves from memory.
 */
import { describe, expect, test } from 'vitest';
import { useCleanup } from './helpers/cleanup.js';
import { mosquittoSub } from './helpers/mqtt-cli.js';
import { freeUdpPort } from './helpers/ports.js';
import { completeSegments, judgeLlHlsPlaylist } from './helpers/ll-hls.js';
import { json, startSystem } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'mosquitto', 'mosquitto_sub');

describe.runIf(ready)('HTTP API', () => {
  const cleanup = useCleanup();

  test('HLS_MODE=plain: start answers once the playlist is playable; stop answers once the files are gone', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto', webEnv: { HLS_MODE: 'plain' } });

    // Concurrent starts share one wait and one segmenter.
    const [first, second] = await Promise.all([
      system.api('/api/stream/start', json()),
      system.api('/api/stream/start', { method: 'POST' }),
    ]);
    expect(first).toMatchObject({ status: 200, body: { state: 'live', streamUrl: '/hls/stream.m3u8' } });
    expect(second).toMatchObject({ status: 200, body: { state: 'live', streamUrl: '/hls/stream.m3u8' } });
    const segmenters = await system.segmenterPids();
    expect(segmenters).toHaveLength(1);

    // Playable at the moment the answer came: at least one complete segment is listed and served.
    const playlist = await fetch(`${system.baseUrl}/hls/stream.m3u8`);
    expect(playlist.headers.get('content-type')).toMatch(/^application\/vnd\.apple\.mpegurl/);
    expect(playlist.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=1');
    const text = await playlist.text();
    const segment = text.split('\n').find((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(segment).toBeDefined();
    const media = await fetch(`${system.baseUrl}/hls/${segment}`);
    expect(media.status).toBe(200);
    expect(media.headers.get('content-type')).toBe('video/mp4');
    expect(media.headers.get('cache-control')).toMatch(/max-age=\d+/);
    // fMP4: a segment begins with its first frame's moof.
    expect(Buffer.from(await media.arrayBuffer()).toString('latin1', 4, 8)).toBe('moof');

    const info = await system.api('/api/stream');
    expect(info.body).toMatchObject({
      state: 'live',
      cameraId: 'cam1',
      streamUrl: '/hls/stream.m3u8',
      camera: { state: 'streaming' },
    });

    // Starting again while live is a no-op success.
    expect((await system.api('/api/stream/start', json())).status).toBe(200);

    const stopped = await system.api('/api/stream/stop', json());
    expect(stopped).toMatchObject({ status: 200, body: { state: 'idle' } });
    expect(await system.hlsFiles()).toEqual([]);
    expect(await system.segmenterPids()).toEqual([]);
    expect((await system.api('/api/stream')).body).toMatchObject({ state: 'idle' });
  });

  test('LL-HLS: start answers once a segment is listed; stop answers once the stream is gone', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto' });

    // Concurrent starts share one wait and one segmenter.
    const [first, second] = await Promise.all([
      system.api('/api/stream/start', json()),
      system.api('/api/stream/start', { method: 'POST' }),
    ]);
    expect(first).toMatchObject({ status: 200, body: { state: 'live', streamUrl: '/hls/stream.m3u8' } });
    expect(second).toMatchObject({ status: 200, body: { state: 'live', streamUrl: '/hls/stream.m3u8' } });
    expect(await system.segmenterPids()).toHaveLength(1);

    // Playable at the moment the answer came, by any player: a complete segment and its parts are
    // listed and served, and the playlist keeps to RFC 8216bis as hls-parser reads it.
    const playlist = await fetch(`${system.baseUrl}/hls/stream.m3u8`);
    expect(playlist.headers.get('content-type')).toMatch(/^application\/vnd\.apple\.mpegurl/);
    expect(playlist.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=1');
    const judgement = judgeLlHlsPlaylist(await playlist.text());
    expect(judgement.violations).toEqual([]);
    expect(completeSegments(judgement.playlist!).length).toBeGreaterThan(0);
    // The stream's first segment is listed without its part (the quick start): fetched whole.
    const firstSegment = judgement.playlist!.segments[0]!;
    const media = await fetch(`${system.baseUrl}/hls/${firstSegment.uri}`);
    expect(media.status).toBe(200);
    expect(media.headers.get('content-type')).toBe('video/mp4');
    expect(media.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(Buffer.from(await media.arrayBuffer()).toString('latin1', 4, 8)).toBe('moof');

    const info = await system.api('/api/stream');
    expect(info.body).toMatchObject({
      state: 'live',
      cameraId: 'cam1',
      streamUrl: '/hls/stream.m3u8',
      hlsMode: 'll',
      camera: { state: 'streaming' },
    });
    expect((await system.api('/api/stream/start', json())).status).toBe(200);

    const stopped = await system.api('/api/stream/stop', json());
    expect(stopped).toMatchObject({ status: 200, body: { state: 'idle' } });
    expect((await fetch(`${system.baseUrl}/hls/stream.m3u8`)).status).toBe(404);
    expect((await fetch(`${system.baseUrl}/hls/${firstSegment.uri}`)).status).toBe(404);
    expect(await system.segmenterPids()).toEqual([]);
    expect(await system.hlsFiles()).toEqual([]); // LL-HLS never writes to HLS_DIR
    expect((await system.api('/api/stream')).body).toMatchObject({ state: 'idle' });
  });

  test('bad input gets a clear 400 or 404 and changes nothing', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto', agent: false });
    for (const body of ['[]', '{"camera":"x"}', '{"oops"', '"start"']) {
      const answer = await system.api('/api/stream/start', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(answer.status, body).toBe(400);
      expect(answer.body, body).toMatchObject({
        statusCode: 400,
        code: expect.any(String),
        message: expect.any(String),
      });
    }
    for (const path of [
      '/hls/../package.json',
      '/hls/%2e%2e/%2e%2e/etc/passwd',
      '/hls/.hidden',
      '/hls/stream.m3u8.tmp',
    ]) {
      const answer = await fetch(`${system.baseUrl}${path}`);
      expect(answer.status, path).toBe(404);
    }
    expect((await system.api('/api/stream')).body).toMatchObject({ state: 'idle' });
  });

  test('a camera that is offline fails fast with a clear error', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto' });
    await system.agent!.stop(); // a clean shutdown publishes the retained `offline`
    await waitFor('the service to hear the camera go offline', async () => {
      const { body } = await system.api('/api/stream');
      return (body as { camera: { state: string } | null }).camera?.state === 'offline';
    });
    const began = Date.now();
    const answer = await system.api('/api/stream/start', json());
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: 'WEB_ERR_CAMERA_OFFLINE' });
    expect(Date.now() - began).toBeLessThan(2000);
    expect(await system.hlsFiles()).toEqual([]);
  });

  test('no playable playlist in time: 504, and the camera is told to stop', async () => {
    // The agent streams to a port nobody listens on, so the segmenter never gets a packet.
    const nowhere = await freeUdpPort();
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      webEnv: { START_TIMEOUT_MS: '3000' },
      agentEnv: { UDP_TARGET: `udp://127.0.0.1:${nowhere}` },
    });
    const watch = await mosquittoSub({ port: system.mqttPort }, 'cameras/cam1/#');
    cleanup.add(() => watch.stop());

    const answer = await system.api('/api/stream/start', json());
    expect(answer.status).toBe(504);
    expect(answer.body).toMatchObject({ code: 'WEB_ERR_MANIFEST_TIMEOUT' });
    await watch.next(
      (m) => m.topic === 'cameras/cam1/control' && (m.payload as { action?: string }).action === 'stop',
    );
    await watch.next(
      (m) => m.topic === 'cameras/cam1/status' && (m.payload as { state: string }).state === 'idle',
    );
    expect(await system.hlsFiles()).toEqual([]);
    expect(await system.segmenterPids()).toEqual([]);
    expect((await system.api('/api/stream')).body).toMatchObject({
      state: 'idle',
      lastError: { code: 'WEB_ERR_MANIFEST_TIMEOUT' },
    });
  });
});
