/**
 * The service in-process on a real socket, for the integration suites: fetch helpers over HTTP, and a
 * Mosquitto with a camera stand-in (fake-camera.ts) the service has heard from.
 */
import { readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { startTestApp, type TestApp } from './app.js';
import type { Cleanup } from '../../../../test/helpers/cleanup.js';
import { startFakeCamera } from './fake-camera.js';
import { startMosquitto } from '../../../../test/helpers/mosquitto.js';
import { completeSegments, parseMediaPlaylist, type MediaPlaylist } from '../../../../test/helpers/ll-hls.js';
import { waitFor } from '../../../../test/helpers/wait.js';

export interface Service extends TestApp {
  readonly base: string;
  api(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }>;
  files(): Promise<string[]>;
  playlist(): Promise<{ status: number; text: string }>;
}

export async function startService(cleanup: Cleanup, env: Record<string, string>): Promise<Service> {
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
export async function segmentListed(service: Service): Promise<MediaPlaylist> {
  const { status, text } = await service.playlist();
  expect(status).toBe(200);
  const playlist = parseMediaPlaylist(text);
  expect(completeSegments(playlist).length, text).toBeGreaterThan(0);
  return playlist;
}

/** The stream is gone in either mode: idle, the playlist 404, no segmenter, nothing in HLS_DIR. */
export async function expectGone(service: Service): Promise<void> {
  expect((await service.api('/api/stream')).body).toMatchObject({ state: 'idle' });
  expect((await service.playlist()).status).toBe(404);
  expect(await service.segmenterPids()).toEqual([]);
  expect(await service.files()).toEqual([]);
}

export const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };

/** Mosquitto, the service on it, and a camera stand-in the service has heard from. */
export async function startWithMosquitto(
  cleanup: Cleanup,
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
