/**
 * Control over MQTT the way a user does it: mosquitto_pub publishes a start straight to the broker,
 * mosquitto_sub watches the camera's status and replies, and an independent player (ffmpeg) plays
 * /hls/stream.m3u8. Real Mosquitto, real agent and service CLIs, real ffmpeg.
 */
import { describe, expect, test } from 'vitest';
import { useCleanup } from './helpers/cleanup.js';
import { mosquittoPub, mosquittoSub } from './helpers/mqtt-cli.js';
import { decodeHls } from './helpers/player.js';
import { startSystem } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'mosquitto', 'mosquitto_pub', 'mosquitto_sub');

describe.runIf(ready)('a stream started with mosquitto_pub', () => {
  const cleanup = useCleanup();

  test('is served at /hls/stream.m3u8, plays in ffmpeg, and stops cleanly', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto' });
    const broker = { port: system.mqttPort };
    const watch = await mosquittoSub(broker, 'cameras/cam1/#');
    cleanup.add(() => watch.stop());

    // The retained status says the camera is ready before anyone asked.
    await watch.next(
      (m) => m.topic === 'cameras/cam1/status' && (m.payload as { state: string }).state === 'idle',
    );

    await mosquittoPub(
      broker,
      'cameras/cam1/control',
      JSON.stringify({ id: 'user-start-1', action: 'start' }),
    );
    await watch.next(
      (m) => m.topic === 'cameras/cam1/status' && (m.payload as { state: string }).state === 'streaming',
    );
    const reply = await watch.next(
      (m) =>
        m.topic === 'cameras/cam1/events' &&
        (m.payload as { commandId: string }).commandId === 'user-start-1',
    );
    expect(reply).toMatchObject({ commandId: 'user-start-1', ok: true });

    // The service noticed the camera streaming without being asked through its API.
    await waitFor('the service to go live', async () => {
      const { body } = await system.api('/api/stream');
      return (body as { state: string }).state === 'live';
    });
    const playlist = await fetch(`${system.baseUrl}/hls/stream.m3u8`);
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get('content-type')).toMatch(/application\/vnd\.apple\.mpegurl/);
    expect(await playlist.text()).toMatch(/#EXTINF:/);

    const decoded = await decodeHls(`${system.baseUrl}/hls/stream.m3u8`, 3.5);
    expect(decoded.seconds).toBeGreaterThanOrEqual(3);
    expect(decoded.frames).toBeGreaterThanOrEqual(3 * 30 * 0.9);

    // The same command delivered again (QoS 1 may do that) is acknowledged, not applied twice.
    await mosquittoPub(
      broker,
      'cameras/cam1/control',
      JSON.stringify({ id: 'user-start-1', action: 'start' }),
    );
    const duplicate = await watch.next(
      (m) =>
        m.topic === 'cameras/cam1/events' &&
        (m.payload as { commandId: string; duplicate?: boolean }).commandId === 'user-start-1' &&
        (m.payload as { duplicate?: boolean }).duplicate === true,
    );
    expect(duplicate).toMatchObject({ ok: true });

    // Garbage on the control topic gets an error reply and the stream goes on.
    await mosquittoPub(broker, 'cameras/cam1/control', '{"action": "dance"');
    await watch.next(
      (m) =>
        m.topic === 'cameras/cam1/events' && (m.payload as { ok: boolean; commandId: unknown }).ok === false,
    );
    expect(((await system.api('/api/stream')).body as { state: string }).state).toBe('live');

    await mosquittoPub(broker, 'cameras/cam1/control', JSON.stringify({ id: 'user-stop-1', action: 'stop' }));
    await watch.next(
      (m) => m.topic === 'cameras/cam1/status' && (m.payload as { state: string }).state === 'idle',
    );
    await waitFor('the service to remove the stream', async () => {
      const { body } = await system.api('/api/stream');
      return (body as { state: string }).state === 'idle' && (await system.hlsFiles()).length === 0;
    });
    expect((await fetch(`${system.baseUrl}/hls/stream.m3u8`)).status).toBe(404);
    expect(await system.segmenterPids()).toEqual([]);
  });
});
