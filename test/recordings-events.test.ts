/**
 * `recording` over server-sent events, end to end (service and agent CLIs, test source, a real
 * Mosquitto): a client learns when a recording begins and ends without polling. A start with
 * `"record": true` says `recording: true` at once, before the stream is live, `recordingSince` once live;
 * `"record": false` on the live stream is heard once the recording is closed (listed as finished);
 * `"record": true` again begins another; a stop ends it. /api/cameras/events carries the same.
 */
import { describe, expect, test } from 'vitest';
import type { Recording, StreamInfo } from '@camstream/protocol';
import { openEvents, type OpenEvents } from '../apps/web-service/test/helpers/events.js';
import { tempDir, useCleanup } from './helpers/cleanup.js';
import { json, startSystem } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'mosquitto');

/** The StreamInfo of every `name` event so far. */
const infos = (events: OpenEvents, name: string): StreamInfo[] =>
  events.state.events.filter((e) => e.event === name).map((e) => e.data as StreamInfo);

describe.runIf(ready)('recording over server-sent events', () => {
  const cleanup = useCleanup();

  test('record on at a start, off and on again while live, off at the stop', async () => {
    const recordDir = await tempDir(cleanup, 'camstream-test-rec-events-');
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      webEnv: {
        WEBRTC: 'off',
        RECORD: 'on-demand',
        RECORD_DIR: recordDir,
        RECORD_KEEP_DAYS: '0',
        RECORD_MIN_FREE: '0',
      },
    });
    const one = await openEvents(`${system.baseUrl}/api/cameras/cam1/events`);
    cleanup.add(one.close);
    const all = await openEvents(`${system.baseUrl}/api/cameras/events`);
    cleanup.add(all.close);
    const stream = () => infos(one, 'stream');
    const list = async (): Promise<Recording[]> =>
      ((await system.api('/api/recordings?camera=cam1')).body as { recordings: Recording[] }).recordings;

    await waitFor('the first event', () => stream().length >= 1);
    expect(stream()[0]).toMatchObject({ state: 'idle', recording: false, recordMode: 'on-demand' });

    // A start that records: `recording` is on before the stream is live; the time once it is.
    expect(await system.api('/api/cameras/cam1/start', json({ record: true }))).toMatchObject({
      status: 200,
    });
    await waitFor('live and recording', () => stream().some((i) => i.state === 'live' && i.recording));
    // Said as soon as the start asks for it, before the stream is live (and without a time then).
    const firstOn = stream().findIndex((i) => i.recording);
    expect(firstOn).toBeLessThan(stream().findIndex((i) => i.state === 'live'));
    expect(stream()[firstOn]).not.toHaveProperty('recordingSince');
    const liveOn = stream().find((i) => i.state === 'live' && i.recording)!;
    const since = Date.parse(liveOn.recordingSince!);
    expect(Math.abs(Date.now() - since)).toBeLessThan(10_000);
    await waitFor('a first segment written', async () => (await list()).length === 1, { timeoutMs: 15_000 });

    // Off while live: the stream goes on, and the event comes once the recording is closed.
    let seen = stream().length;
    expect(await system.api('/api/cameras/cam1/start', json({ record: false }))).toMatchObject({
      status: 200,
    });
    await waitFor('recording off', () =>
      stream()
        .slice(seen)
        .some((i) => i.recording === false),
    );
    const off = stream()
      .slice(seen)
      .find((i) => i.recording === false)!;
    expect(off.state).toBe('live');
    expect(off).not.toHaveProperty('recordingSince');
    expect((await list()).map((r) => r.recording)).toEqual([false]);

    // On again: a second recording, a later time.
    seen = stream().length;
    expect(await system.api('/api/cameras/cam1/start', json({ record: true }))).toMatchObject({
      status: 200,
    });
    await waitFor('recording on again', () =>
      stream()
        .slice(seen)
        .some((i) => i.recording),
    );
    const again = stream()
      .slice(seen)
      .find((i) => i.recording)!;
    expect(again.state).toBe('live');
    expect(Date.parse(again.recordingSince!)).toBeGreaterThan(since);
    await waitFor('the second one written', async () => (await list()).length === 2, { timeoutMs: 15_000 });

    // The stop ends it: idle, not recording, both listed as finished.
    seen = stream().length;
    expect(await system.api('/api/cameras/cam1/stop', json())).toMatchObject({ status: 200 });
    await waitFor('idle', () =>
      stream()
        .slice(seen)
        .some((i) => i.state === 'idle'),
    );
    expect(stream().at(-1)).toMatchObject({ state: 'idle', recording: false });
    expect((await list()).map((r) => r.recording)).toEqual([false, false]);

    // Every camera's stream heard the same: on, off, on, off.
    const flips = infos(all, 'camera')
      .filter((i) => i.cameraId === 'cam1')
      .map((i) => i.recording)
      .filter((value, at, values) => at === 0 || value !== values[at - 1]);
    expect(flips).toEqual([false, true, false, true, false]);
  }, 90_000);
});
