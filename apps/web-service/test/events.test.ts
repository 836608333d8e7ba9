/** GET /api/stream/events: server-sent events over a real socket (port 0; inject() would wait for the end). */
import { connect, type AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { startTestApp } from './helpers/app.js';
import { openEvents, streamEvents } from './helpers/events.js';
import { useCleanup } from '../../../test/helpers/cleanup.js';
import { waitFor } from '../../../test/helpers/wait.js';

describe('server-sent events', () => {
  const cleanup = useCleanup();

  test('the state on connect and on every change, heartbeats, cleanup on disconnect', async () => {
    const { app } = await startTestApp(cleanup, {}, { listen: true, sseHeartbeatMs: 50 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const streams = app.camstream.streams;
    const before = streams.listenerCount('change');

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

    expect(streams.listenerCount('change')).toBe(before + 1);
    events.close();
    await waitFor('the listener to go', () => streams.listenerCount('change') === before);
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
