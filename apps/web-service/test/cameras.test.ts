/**
 * The camera registry and its routes, against the in-process embedded broker (no ffmpeg): cameras
 * from the configuration and from the broker, the per-camera API's answers for unknown and
 * impossible ids, the all-cameras event stream, forgetting a discovered camera, metrics per camera.
 */
import type { AddressInfo } from 'node:net';
import { connectAsync, type MqttClient } from 'mqtt';
import { describe, expect, test } from 'vitest';
import { cameraPaths, type CameraList, type StreamInfo } from '@camstream/protocol';
import { useCleanup, type Cleanup } from '../../../test/helpers/cleanup.js';
import { freeUdpPort } from '../../../test/helpers/ports.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { startTestApp } from './helpers/app.js';
import { openEvents } from './helpers/events.js';

const status = (state: string) => JSON.stringify({ state, at: new Date().toISOString() });

async function cameraClient(cleanup: Cleanup, url: string): Promise<MqttClient> {
  const client = await connectAsync(url, { protocolVersion: 4 });
  cleanup.add(() => client.endAsync(true));
  return client;
}

describe('cameras', () => {
  const cleanup = useCleanup();

  test('the default camera and those of CAMERAS, listed default first; each at its own routes', async () => {
    const [p2, p3] = [await freeUdpPort(), await freeUdpPort()];
    const { app } = await startTestApp(cleanup, {
      CAMERAS: `zeta=udp://127.0.0.1:${p2} alpha=udp://0.0.0.0:${p3}?sources=10.0.0.7`,
      UDP_TARGET_HOST: '192.168.1.2',
    });
    const { cameras } = (await app.inject('/api/cameras')).json() as CameraList;
    expect(cameras.map((c) => [c.cameraId, c.ingest, c.origin, c.state])).toEqual([
      ['cam1', expect.stringMatching(/^udp:\/\/127\.0\.0\.1:/), 'configured', 'idle'],
      ['alpha', `udp://0.0.0.0:${p3}`, 'configured', 'idle'],
      ['zeta', `udp://127.0.0.1:${p2}`, 'configured', 'idle'],
    ]);
    expect((await app.inject(cameraPaths('alpha').info)).json()).toMatchObject({
      cameraId: 'alpha',
      camera: null,
    });
    // Never heard from: a start fails fast, naming the camera.
    const start = await app.inject({ method: 'POST', url: cameraPaths('zeta').start });
    expect(start.statusCode).toBe(503);
    expect(start.json()).toMatchObject({
      code: 'WEB_ERR_CAMERA_OFFLINE',
      message: expect.stringContaining('zeta'),
    });
    expect((await app.inject(cameraPaths('zeta').info)).json()).toMatchObject({
      lastError: { code: 'WEB_ERR_CAMERA_OFFLINE' },
    });
    // The default camera's first-contract state is untouched by another camera's failure.
    expect((await app.inject('/api/stream')).json()).not.toHaveProperty('lastError');
  });

  test.each([
    ['an unknown id', '/api/cameras/nope'],
    ['an unknown id, start', '/api/cameras/nope/start'],
    ['an escaped slash', '/api/cameras/a%2Fb'],
    ['a wildcard', '/api/cameras/%2B'],
    ['a space', '/api/cameras/a%20b'],
  ])('%s: 404 WEB_ERR_UNKNOWN_CAMERA', async (_what, url) => {
    const { app } = await startTestApp(cleanup);
    const answer = await app.inject({ method: url.endsWith('/start') ? 'POST' : 'GET', url });
    expect(answer.statusCode).toBe(404);
    expect(answer.json()).toMatchObject({ statusCode: 404, code: 'WEB_ERR_UNKNOWN_CAMERA' });
  });

  test('/hls/<unknown>/stream.m3u8 is a 404 like any name that is not ours; so are dot segments', async () => {
    const { app } = await startTestApp(cleanup);
    // Dot segments never reach the route (the router resolves them): a 404 all the same.
    for (const url of [
      '/hls/nope/stream.m3u8',
      '/hls/cam1/nested/stream.m3u8',
      '/hls/cam1/stream.m3u8',
      '/hls/%2E%2E/stream.m3u8',
      '/api/cameras/%2E%2E',
    ]) {
      const answer = await app.inject(url);
      expect(answer.statusCode, url).toBe(404);
      expect(answer.json(), url).toMatchObject({ code: 'WEB_ERR_NOT_FOUND' });
    }
  });

  test('a camera that announces itself appears with a port of the range; garbage creates nothing; when the range is full, no more', async () => {
    const port = await freeUdpPort();
    const { app } = await startTestApp(cleanup, { UDP_PORT_RANGE: `${port}-${port}` });
    const camera = await cameraClient(cleanup, app.camstream.mqttUrl);
    for (const payload of ['not json', '{"state":"dancing"}', '']) {
      await camera.publishAsync('cameras/junk/status', payload, { qos: 1, retain: true });
    }
    // A valid MQTT id that names a route (/api/cameras/events is the all-cameras event stream).
    await camera.publishAsync('cameras/events/status', status('idle'), { qos: 1, retain: true });
    await camera.publishAsync('cameras/garage/status', status('idle'), { qos: 1, retain: true });
    await waitFor('garage listed', () => app.camstream.cameras.size === 2);
    const garage = (await app.inject('/api/cameras/garage')).json() as StreamInfo;
    expect(garage).toMatchObject({
      cameraId: 'garage',
      origin: 'discovered',
      ingest: `udp://127.0.0.1:${port}`,
      camera: { state: 'idle' },
    });
    // The range's one port is taken: another camera is not served (and not listed).
    await camera.publishAsync('cameras/shed/status', status('idle'), { qos: 1, retain: true });
    await camera.publishAsync('cameras/garage/status', status('streaming'), { qos: 1, retain: true });
    await waitFor(
      'garage’s new status',
      () => app.camstream.cameras.get('garage')?.link.status?.state === 'streaming',
    );
    expect(app.camstream.cameras.list().map((c) => c.id)).toEqual(['cam1', 'garage']);
    expect((await app.inject('/api/cameras/junk')).statusCode).toBe(404);
  });

  test('a discovered camera offline for CAMERA_FORGET_MS is forgotten: a `removed` event, its port free again; configured cameras stay', async () => {
    const port = await freeUdpPort();
    const { app } = await startTestApp(
      cleanup,
      { UDP_PORT_RANGE: `${port}-${port}`, CAMERA_FORGET_MS: '1000' },
      { listen: true },
    );
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const events = await openEvents(`${base}/api/cameras/events`);
    cleanup.add(events.close);
    await waitFor('the default camera on connect', () => events.state.events.length >= 1);
    expect(events.state.events[0]).toMatchObject({ event: 'camera', data: { cameraId: 'cam1' } });

    const camera = await cameraClient(cleanup, app.camstream.mqttUrl);
    await camera.publishAsync('cameras/porch/status', status('idle'), { qos: 1, retain: true });
    await waitFor('porch announced', () =>
      events.state.events.some((e) => e.event === 'camera' && (e.data as StreamInfo).cameraId === 'porch'),
    );
    const perCamera = await openEvents(`${base}${cameraPaths('porch').events}`);
    cleanup.add(perCamera.close);
    await waitFor('porch’s own stream', () => perCamera.state.events.length >= 1);

    await camera.publishAsync('cameras/porch/status', status('offline'), { qos: 1, retain: true });
    await waitFor('porch forgotten', () => events.state.events.some((e) => e.event === 'removed'), {
      timeoutMs: 5000,
    });
    expect(events.state.events.find((e) => e.event === 'removed')!.data).toEqual({ cameraId: 'porch' });
    await waitFor('porch’s own stream ended', () => perCamera.state.ended);
    expect((await app.inject('/api/cameras/porch')).statusCode).toBe(404);
    // Its port is free for the next camera; the default camera is never forgotten.
    await camera.publishAsync('cameras/porch/status', '', { qos: 1, retain: true });
    await camera.publishAsync('cameras/attic/status', status('offline'), { qos: 1, retain: true });
    await waitFor('attic listed', () => app.camstream.cameras.get('attic') !== undefined);
    expect(app.camstream.cameras.get('attic')!.info().ingest).toBe(`udp://127.0.0.1:${port}`);
    expect(app.camstream.cameras.get('cam1')).toBeDefined();
  });

  test('metrics carry a camera label, a series per camera', async () => {
    const { app } = await startTestApp(cleanup, { CAMERAS: `cam2=udp://127.0.0.1:${await freeUdpPort()}` });
    const text = (await app.inject('/metrics')).body;
    expect(text).toContain('camstream_stream_live{camera="cam1"} 0');
    expect(text).toContain('camstream_stream_live{camera="cam2"} 0');
    expect(text).toContain('camstream_ingest_datagrams_total{camera="cam2"} 0');
    expect(text).toMatch(/camstream_llhls_bytes_held\{camera="cam2"\} \d+/);
    // Per output (HLS_MODE=ll: the LL-HLS packager), what it dropped for being too slow.
    expect(text).toContain('camstream_output_dropped_frames_total{camera="cam2",output="ll-hls"} 0');
    expect(text).toContain('camstream_output_errors_total{camera="cam1",output="ll-hls"} 0');
  });
});
