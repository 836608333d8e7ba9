/** GET /api/stream/events: server-sent events over a real socket (port 0; inject() would wait for the end). */
import { connect, type AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { startTestApp } from './helpers/app.js';
import { openEvents, streamEvents } from './helpers/events.js';
import { tempDir, useCleanup } from '../../../test/helpers/cleanup.js';
import { waitFor } from '../../../test/helpers/wait.js';

describe('server-sent events', () => {
  const cleanup = useCleanup();

  test('the state on connect and on every change, heartbeats, cleanup on disconnect', async () => {
    const { app } = await startTestApp(cleanup, {}, { listen: true, sseHeartbeatMs: 50 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const camera = app.camstream.cameras.default;
    const before = camera.listenerCount('change');

    const events = await openEvents(`${base}/api/stream/events`);
    cleanup.add(events.close);
    expect(events.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(events.response.headers.get('cache-control')).toMatch(/no-cache/);
    await waitFor('the first event', () => streamEvents(events).length >= 1);
    expect(streamEvents(events)[0]).toEqual({
      state: 'idle',
      cameraId: 'cam1',
      camera: null,
      hlsMode: 'll',
      ingest: expect.stringMatching(/^udp:/),
      origin: 'configured',
    });

    // A failed start changes lastError: every client hears about it.
    await (await fetch(`${base}/api/stream/start`, { method: 'POST' })).text();
    await waitFor('the change', () => streamEvents(events).length >= 2);
    expect(streamEvents(events).at(-1)).toMatchObject({ lastError: { code: 'WEB_ERR_CAMERA_OFFLINE' } });
    await waitFor('a heartbeat', () => events.state.text.includes(': heartbeat\n\n'));

    expect(camera.listenerCount('change')).toBe(before + 1);
    events.close();
    await waitFor('the listener to go', () => camera.listenerCount('change') === before);
  });

  test('`recording` changes are events: on at a start with "record": true, off when it fails', async () => {
    const recordDir = await tempDir(cleanup, 'camstream-ws-rec-');
    const env = { RECORD: 'on-demand', RECORD_DIR: recordDir, RECORD_MIN_FREE: '0' };
    const { app } = await startTestApp(cleanup, env, { listen: true });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const single = await openEvents(`${base}/api/stream/events`);
    cleanup.add(single.close);
    const all = await openEvents(`${base}/api/cameras/events`);
    cleanup.add(all.close);
    const recordingOf = (events: unknown[]) =>
      events.map((info) => (info as { recording?: boolean }).recording);
    const cameraEvents = () => all.state.events.filter((e) => e.event === 'camera').map((e) => e.data);
    await waitFor('the first events', () => streamEvents(single).length >= 1 && cameraEvents().length >= 1);
    expect(streamEvents(single)[0]).toMatchObject({ recording: false, recordMode: 'on-demand' });
    expect(streamEvents(single)[0]).not.toHaveProperty('recordingSince');

    // No camera: the start fails, and the recording it asked for is called off. Both are heard.
    const response = await fetch(`${base}/api/stream/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ record: true }),
    });
    expect(response.status).toBe(503);
    await waitFor('recording on, then off', () => {
      const seen = recordingOf(streamEvents(single));
      return seen.includes(true) && seen.lastIndexOf(false) > seen.indexOf(true);
    });
    await waitFor('the same on /api/cameras/events', () => {
      const seen = recordingOf(cameraEvents());
      return seen.includes(true) && seen.lastIndexOf(false) > seen.indexOf(true);
    });
    expect(streamEvents(single).at(-1)).toMatchObject({
      recording: false,
      lastError: { code: 'WEB_ERR_CAMERA_OFFLINE' },
    });
    expect((await (await fetch(`${base}/api/stream`)).json()) as unknown).toMatchObject({ recording: false });
  });

  test('open event streams do not hold up the shutdown', async () => {
    const { app } = await startTestApp(cleanup, {}, { listen: true });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const events = await openEvents(`${base}/api/stream/events`);
    cleanup.add(events.close);
    await waitFor('the first event', () => streamEvents(events).length >= 1);
    const began = Date.now();
    await app.close();
    expect(Date.now() - began).toBeLessThan(2000);
  });

  test('a connection that never sent a request (a browser preconnect) does not hold up the shutdown', async () => {
    const { app } = await startTestApp(cleanup, {}, { listen: true });
    const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
    cleanup.add(() => socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const began = Date.now();
    await app.close();
    expect(Date.now() - began).toBeLessThan(1000);
  });
});
