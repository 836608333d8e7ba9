/**
 * Random bytes on the service's UDP port: real Mosquitto, the real agent and service CLIs, real
 * ffmpeg. Garbage (test/helpers/udp-garbage.ts: any size up to 65507 bytes, TS-looking packets with
 * random PIDs, TS headers on the video PID with garbage payloads) while idle, between the camera's
 * datagrams while live, and already arriving when Start is pressed. The segmenter survives (or is
 * restarted, and the service says so), the stream stays live, and once the garbage stops the stream
 * plays cleanly again: the playlist keeps to the LL-HLS rules and ffmpeg decodes it without an error.
 * The service's ingest (apps/web-service/src/ingest/) drops what is not the camera's stream before
 * ffmpeg sees it, and counts it in GET /metrics.
 */
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, test } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { recordFigures } from '../helpers/figures.js';
import { sampleOf } from '../helpers/fuzz.js';
import { expectSameProcesses, expectStreamPlays, processesOf } from '../helpers/live.js';
import { judgeLlHlsPlaylist, type MediaPlaylist } from '../helpers/ll-hls.js';
import { countLines, type LineCounter } from '../helpers/log-lines.js';
import { decodeHls } from '../helpers/player.js';
import { json, startSystem, type System } from '../helpers/system.js';
import { haveTools } from '../helpers/tools.js';
import {
  anyGarbage,
  anyGarbageWithPes,
  sendGarbage,
  videoPes,
  type GarbageSender,
} from '../helpers/udp-garbage.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto');

/** The same datagrams every run (FC_SEED changes them). */
const GARBAGE = sampleOf(anyGarbage, 1500);
const GARBAGE_WITH_PES = sampleOf(anyGarbageWithPes, 1500);

type Watched = 'died' | 'restarting' | 'restarted' | 'backedOff';
const SEGMENTER_LINES: Record<Watched, RegExp> = {
  died: /segmenter died/,
  restarting: /restarting the segmenter/,
  restarted: /segmenter restarted/,
  // More than three crashes in a minute: restarts wait (the stream is never given up on).
  backedOff: /it keeps failing, trying again/,
};

/** TS packets and datagrams the service's ingest dropped so far (GET /metrics). */
async function ingestDrops(system: System): Promise<number> {
  const text = await (await fetch(`${system.baseUrl}/metrics`)).text();
  let sum = 0;
  for (const [, value] of text.matchAll(
    /^camstream_ingest_(?:packets|datagrams)_dropped_total\{[^}]*\} (\d+)/gm,
  )) {
    sum += Number(value);
  }
  return sum;
}

const totals = (sender: GarbageSender) =>
  Object.values(sender.sent).reduce(
    (sum, { datagrams, bytes }) => ({ datagrams: sum.datagrams + datagrams, bytes: sum.bytes + bytes }),
    { datagrams: 0, bytes: 0 },
  );

/**
 * Waits until the stream plays cleanly: the playlist keeps to the rules (from one reload to the
 * next, too), and ffmpeg decodes 2 s of it at close to 30 fps without reporting an error.
 * Returns how long after `since` the first clean check ended.
 */
async function untilPlaysCleanly(system: System, since: number, timeoutMs = 30_000): Promise<number> {
  let previous: MediaPlaylist | undefined;
  let problem = 'nothing checked yet';
  while (Date.now() - since < timeoutMs) {
    const response = await fetch(`${system.baseUrl}/hls/stream.m3u8`);
    const text = await response.text();
    const judgement = judgeLlHlsPlaylist(text, previous);
    previous = judgement.playlist;
    if (response.status !== 200 || judgement.violations.length > 0) {
      problem = `playlist ${response.status}: ${judgement.violations.join('; ')}`;
      await sleep(250);
      continue;
    }
    const decoded = await decodeHls(`${system.baseUrl}/hls/stream.m3u8`, 2).catch((err: Error) => err);
    if (decoded instanceof Error || decoded.stderr.trim() !== '' || decoded.frames < 2 * 30 * 0.9) {
      problem =
        decoded instanceof Error ? decoded.message : `ffmpeg: ${decoded.frames} frames; ${decoded.stderr}`;
      continue;
    }
    return Date.now() - since;
  }
  throw new Error(`the stream did not play cleanly within ${timeoutMs} ms: ${problem.slice(0, 2000)}`);
}

describe.runIf(ready)('garbage on the UDP port', () => {
  const shared = useCleanup('file');
  const cleanup = useCleanup();
  let system: System;
  let log: LineCounter<Watched>;

  beforeAll(async () => {
    system = await startSystem(shared, { broker: 'mosquitto' });
    log = countLines(system.web.proc, SEGMENTER_LINES);
    shared.add(() => log.stop());
  });

  test('while idle: nothing listens, nothing happens; a start afterwards works', async () => {
    const web = system.web.proc.pid;
    const sender = sendGarbage(cleanup, system.udpPort, GARBAGE.slice(0, 300), { once: true });
    await sender.done;
    expect(await system.segmenterPids()).toEqual([]);
    expect((await system.api('/api/stream')).body).toMatchObject({
      state: 'idle',
      camera: { state: 'idle' },
    });
    expect(system.web.proc.pid).toBe(web);
    expect(await system.api('/api/stream/start', json())).toMatchObject({
      status: 200,
      body: { state: 'live' },
    });
    recordFigures({ datagrams: totals(sender).datagrams, bytes: totals(sender).bytes });
  });

  test('while live, between the camera’s datagrams for 3 s: the stream stays live and plays cleanly again', async () => {
    const before = await processesOf(system);
    expect(before.segmenters).toHaveLength(1);
    const restartsBefore = log.counts.restarted;
    const sender = sendGarbage(cleanup, system.udpPort, GARBAGE_WITH_PES);
    const states = new Set<string>();
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      states.add(((await system.api('/api/stream')).body as { state: string }).state);
      await sleep(200);
    }
    await sender.stop();
    const stoppedAt = Date.now();
    expect([...states]).toEqual(['live']);
    const cleanAfterMs = await untilPlaysCleanly(system, stoppedAt);

    // The same processes; the segmenter the same one, or replaced in a restart the service reported.
    expectSameProcesses(system, before);
    const segmenters = await system.segmenterPids();
    expect(segmenters).toHaveLength(1);
    const restarts = log.counts.restarted - restartsBefore;
    if (segmenters[0] !== before.segmenters[0]) expect(restarts, log.last.died).toBeGreaterThan(0);
    expect(log.counts.backedOff).toBe(0);
    await expectStreamPlays(system);
    recordFigures({
      ...Object.fromEntries(Object.entries(sender.sent).map(([kind, { datagrams }]) => [kind, datagrams])),
      bytes: totals(sender).bytes,
      segmenterRestarts: restarts,
      cleanAfterMs,
    });
  });

  /** Stops the stream, starts sending `garbage`, presses Start; the stream must play. */
  async function startIntoGarbage(garbage: typeof GARBAGE) {
    expect(await system.api('/api/stream/stop', json())).toMatchObject({
      status: 200,
      body: { state: 'idle' },
    });
    const sender = sendGarbage(cleanup, system.udpPort, garbage);
    await sleep(500);
    const began = Date.now();
    const answer = await system.api('/api/stream/start', json());
    const startMs = Date.now() - began;
    await sleep(answer.status === 200 ? 1000 : 0);
    await sender.stop();
    expect(answer, JSON.stringify(answer.body)).toMatchObject({ status: 200, body: { state: 'live' } });
    const cleanAfterMs = await untilPlaysCleanly(system, Date.now());
    await expectStreamPlays(system);
    expect(log.counts.backedOff).toBe(0);
    return { datagrams: totals(sender).datagrams, bytes: totals(sender).bytes, startMs, cleanAfterMs };
  }

  test('already arriving when Start is pressed: start answers 200, and the stream plays', async () => {
    recordFigures(await startIntoGarbage(GARBAGE));
  });

  // PES packets with timestamps of their own, arriving while the segmenter probes, used to set the
  // run's timeline: the camera's frames then fell "out of range" for the mp4 muxer (start answered 504)
  // or the muxer stopped (500), about every other start. The ingest reads each sender on its own and
  // begins the segmenter at the camera's keyframe, so garbage never reaches ffmpeg.
  test(
    'PES garbage already arriving when Start is pressed: start answers 200 (5 tries)',
    { timeout: 120_000 },
    async () => {
      const droppedBefore = await ingestDrops(system);
      const runs = [];
      for (let attempt = 0; attempt < 5; attempt++) runs.push(await startIntoGarbage(GARBAGE_WITH_PES));
      expect(await ingestDrops(system)).toBeGreaterThan(droppedBefore);
      recordFigures({
        startMs: runs.map((r) => r.startMs).join(' '),
        cleanAfterMs: runs.map((r) => r.cleanAfterMs).join(' '),
      });
    },
  );

  // One 188-byte TS packet starting a PES on the video PID whose PTS is 2^32 ticks (13 h) after its
  // DTS used to stop ffmpeg's mp4 muxer ("pts/dts pair unsupported"), and the segmenter was replaced
  // each time. Now the ingest drops it: from another sender than the camera's (and from the camera's
  // own, a PTS so far after its DTS is dropped too: ingest-filter.test.ts).
  test(
    'a PES whose PTS is 13 h after its DTS, 4 times: dropped by the ingest, ffmpeg never sees it, the stream plays',
    { timeout: 90_000 },
    async () => {
      const socket = createSocket('udp4');
      shared.add(() => new Promise<void>((resolve) => socket.close(() => resolve())));
      const diedBefore = log.counts.died;
      const droppedBefore = await ingestDrops(system);
      const [segmenter] = await system.segmenterPids();
      for (let i = 0; i < 4; i++) {
        socket.send(videoPes(1n << 32n, 0n, i), system.udpPort, '127.0.0.1');
        await sleep(1000);
      }
      expect(log.counts.died - diedBefore, log.last.died).toBe(0);
      expect(await ingestDrops(system)).toBeGreaterThanOrEqual(droppedBefore + 4);
      expect(await system.segmenterPids()).toEqual([segmenter]);
      expect((await system.api('/api/stream')).body).toMatchObject({
        state: 'live',
        camera: { state: 'streaming' },
      });
      const cleanAfterMs = await untilPlaysCleanly(system, Date.now());
      recordFigures({ packets: 4, segmenterDeaths: 0, cleanAfterMs });
    },
  );
});

describe.runIf(ready)('garbage from another address, with UDP_SOURCES set to the camera’s', () => {
  const cleanup = useCleanup();

  test('PES garbage from 127.0.0.2 when Start is pressed and while live: dropped before ffmpeg, the stream plays cleanly throughout', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto', webEnv: { UDP_SOURCES: '127.0.0.1' } });
    const log = countLines(system.web.proc, SEGMENTER_LINES);
    cleanup.add(() => log.stop());
    const sender = sendGarbage(cleanup, system.udpPort, GARBAGE_WITH_PES, { from: '127.0.0.2' });
    await sleep(500);
    const began = Date.now();
    expect(await system.api('/api/stream/start', json())).toMatchObject({
      status: 200,
      body: { state: 'live' },
    });
    const startMs = Date.now() - began;
    // While the garbage goes on: a clean playlist and a clean decode at the first try.
    const cleanMs = await untilPlaysCleanly(system, Date.now(), 8000);
    await sender.stop();
    expect(log.counts.died).toBe(0);
    await expectStreamPlays(system);
    recordFigures({ datagrams: totals(sender).datagrams, bytes: totals(sender).bytes, startMs, cleanMs });
  });
});
