/**
 * Many cameras on one service, as a user with cameras that are not ours has them: a real Mosquitto,
 * cameras played by test/helpers/foreign-camera.ts (plain ffmpeg behind a small MQTT wrapper, which
 * sends where its start command says), the service's real CLI. The default camera, one configured
 * in CAMERAS and one that announces itself on the broker: listed, started at once, each played by
 * ffmpeg over HTTP; a segmenter killed, a stop or an agent killed on one leaves the others untouched.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cameraPaths, type CameraList, type StartResponse, type StreamInfo } from '@camstream/protocol';
import { describe, expect, test } from 'vitest';
import { useCleanup, type Cleanup } from './helpers/cleanup.js';
import { ForeignCamera } from './helpers/foreign-camera.js';
import { expectPlayableByFfmpeg } from './helpers/player.js';
import { freeUdpPort } from './helpers/ports.js';
import { json, startSystem, type System } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto');

async function camera(
  cleanup: Cleanup,
  system: System,
  cameraId: string,
  target: string,
): Promise<ForeignCamera> {
  const made = await ForeignCamera.connect({ mqttUrl: system.mqttUrl, cameraId, target });
  cleanup.add(() => made.close());
  return made;
}

const list = async (system: System) => ((await system.api('/api/cameras')).body as CameraList).cameras;
const infoOf = async (system: System, id: string) =>
  (await system.api(cameraPaths(id).info)).body as StreamInfo;

/** The playlist's newest media sequence number + parts: it grows while the stream goes on. */
async function edge(system: System, streamUrl: string): Promise<string> {
  const text = await (await fetch(`${system.baseUrl}${streamUrl}`)).text();
  const segments = text.match(/^[^#].*$/gm) ?? [];
  return `${/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]}+${segments.length}:${text.length}`;
}

async function expectAdvancing(system: System, streamUrl: string): Promise<void> {
  const before = await edge(system, streamUrl);
  await waitFor(`${streamUrl} goes on`, async () => (await edge(system, streamUrl)) !== before, {
    timeoutMs: 5000,
  });
}

describe.runIf(ready)('many cameras on one service', () => {
  const cleanup = useCleanup();

  test('the default camera, one from CAMERAS and one discovered: listed, started at once, each played; a killed segmenter, a stop or a killed agent touches no other camera', async () => {
    const cam2Port = await freeUdpPort();
    const rangePort = await freeUdpPort();
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      agent: false,
      webEnv: { CAMERAS: `cam2=udp://127.0.0.1:${cam2Port}`, UDP_PORT_RANGE: `${rangePort}-${rangePort}` },
    });
    // The cameras are told where to send (cam2, cam3); their own targets lead nowhere.
    await camera(cleanup, system, 'cam1', `udp://127.0.0.1:${system.udpPort}`);
    await camera(cleanup, system, 'cam2', 'udp://127.0.0.1:9');
    expect((await list(system)).map((c) => [c.cameraId, c.origin])).toEqual([
      ['cam1', 'configured'],
      ['cam2', 'configured'],
    ]);

    // A third camera announces itself (our own agent, whose UDP_TARGET is cam1's port): it is served
    // on the range's port, and told so in its start command.
    await system.startAgent({ CAMERA_ID: 'cam3' });
    await waitFor('cam3 listed', async () => (await list(system)).length === 3);
    expect(await infoOf(system, 'cam3')).toMatchObject({
      cameraId: 'cam3',
      origin: 'discovered',
      ingest: `udp://127.0.0.1:${rangePort}`,
      state: 'idle',
      camera: { state: 'idle' },
    });

    const starts = await Promise.all(['cam1', 'cam2'].map((id) => system.api(cameraPaths(id).start, json())));
    const firstTwo = await system.segmenterPids();
    starts.push(await system.api(cameraPaths('cam3').start, json()));
    expect(starts.map((s) => [s.status, (s.body as StartResponse).streamUrl])).toEqual([
      [200, '/hls/cam1/stream.m3u8'],
      [200, '/hls/cam2/stream.m3u8'],
      [200, '/hls/cam3/stream.m3u8'],
    ]);
    // The first contract's routes are the default camera's.
    expect((await system.api('/api/stream')).body).toMatchObject({
      state: 'live',
      streamUrl: '/hls/stream.m3u8',
    });
    // One segmenter per camera.
    expect(firstTwo).toHaveLength(2);
    const cam3Segmenter = (await system.segmenterPids()).find((pid) => !firstTwo.includes(pid))!;
    expect(await system.segmenterPids()).toHaveLength(3);

    // cam3's segmenter dies: it gets a new one; cam1's and cam2's are untouched, their streams go on.
    process.kill(cam3Segmenter, 'SIGKILL');
    await waitFor('cam3’s new segmenter', async () => {
      const pids = await system.segmenterPids();
      return pids.length === 3 && !pids.includes(cam3Segmenter);
    });
    expect((await system.segmenterPids()).filter((pid) => firstTwo.includes(pid))).toHaveLength(2);
    await expectAdvancing(system, '/hls/cam2/stream.m3u8');
    const cam2Playlist = await (await fetch(`${system.baseUrl}/hls/cam2/stream.m3u8`)).text();
    expect(cam2Playlist).not.toContain('#EXT-X-DISCONTINUITY');
    expect((await list(system)).map((c) => c.state)).toEqual(['live', 'live', 'live']);
    for (const id of ['cam2', 'cam3']) {
      await expectPlayableByFfmpeg(`${system.baseUrl}/hls/${id}/stream.m3u8`, {
        seconds: 2,
        minSeconds: 1.5,
        minFrames: 40,
      });
    }
    // /hls/stream.m3u8 and /hls/cam1/stream.m3u8 are the same stream.
    const [legacy, perCamera] = await Promise.all(
      ['/hls/stream.m3u8', '/hls/cam1/stream.m3u8'].map(
        async (url) => (await (await fetch(`${system.baseUrl}${url}`)).text()).match(/^[^#].*$/m)?.[0],
      ),
    );
    expect(legacy).toBe(perCamera);

    // Stop cam2: cam1 and cam3 go on.
    expect((await system.api(cameraPaths('cam2').stop, json())).status).toBe(200);
    expect((await infoOf(system, 'cam2')).state).toBe('idle');
    expect((await system.api('/hls/cam2/stream.m3u8')).status).toBe(404);
    await expectAdvancing(system, '/hls/cam1/stream.m3u8');
    await expectAdvancing(system, '/hls/cam3/stream.m3u8');
    expect((await infoOf(system, 'cam3')).state).toBe('live');

    // cam3's agent is SIGKILLed: its Last Will says offline, its stream ends; cam1's goes on.
    process.kill(system.agent!.proc.pid!, 'SIGKILL');
    await waitFor('cam3’s stream ended', async () => (await infoOf(system, 'cam3')).state === 'idle', {
      timeoutMs: 10_000,
    });
    expect((await infoOf(system, 'cam3')).camera).toMatchObject({ state: 'offline' });
    await expectAdvancing(system, '/hls/cam1/stream.m3u8');
    expect((await infoOf(system, 'cam1')).state).toBe('live');
  });

  test('HLS_MODE=plain: each camera’s files in its own folder; a stop never deletes another camera’s', async () => {
    const cam2Port = await freeUdpPort();
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      agent: false,
      webEnv: { HLS_MODE: 'plain', CAMERAS: `cam2=udp://127.0.0.1:${cam2Port}`, CAMERA_DISCOVERY: 'off' },
    });
    await camera(cleanup, system, 'cam1', `udp://127.0.0.1:${system.udpPort}`);
    await camera(cleanup, system, 'cam2', 'udp://127.0.0.1:9');
    // Discovery off: a camera that announces itself is not served.
    await camera(cleanup, system, 'cam9', 'udp://127.0.0.1:9');
    await Promise.all(['cam1', 'cam2'].map((id) => system.api(cameraPaths(id).start, json())));
    expect((await list(system)).map((c) => [c.cameraId, c.state])).toEqual([
      ['cam1', 'live'],
      ['cam2', 'live'],
    ]);
    const own = (names: string[]) => names.filter((name) => /\.(ts|m3u8)$/.test(name));
    expect(own(await readdir(system.hlsDir))).not.toEqual([]);
    expect(own(await readdir(join(system.hlsDir, 'cam2')))).not.toEqual([]);

    expect((await system.api(cameraPaths('cam2').stop, json())).status).toBe(200);
    await waitFor('cam2’s folder gone or empty', async () => {
      const left = await readdir(join(system.hlsDir, 'cam2')).catch(() => []);
      return own(left).length === 0;
    });
    expect(own(await readdir(system.hlsDir))).toContain('stream.m3u8');
    await expectAdvancing(system, '/hls/stream.m3u8');
    await expectPlayableByFfmpeg(`${system.baseUrl}/hls/cam1/stream.m3u8`, {
      seconds: 2,
      minSeconds: 1.5,
      minFrames: 40,
    });
  });
});
