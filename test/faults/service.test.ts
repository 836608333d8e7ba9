/**
 * Faults at the web service, caused for real: its segmenter SIGKILLed while live (LL-HLS and plain
 * HLS), a SIGTERM while live, a SIGKILL while the camera was silent (which used to orphan a segmenter
 * blocked in its UDP read: now its input, a pipe from the service, closes; and whose stream the next
 * boot gave up on for good if the video was still cut after one START_TIMEOUT_MS), and another process
 * holding the UDP port. Real Mosquitto, agent and service CLIs.
 */
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { alive, goLive, streamInfo } from '../helpers/faults.js';
import { recordFigures } from '../helpers/figures.js';
import { watchLive } from '../helpers/live-watch.js';
import { expectPlayableByFfmpeg } from '../helpers/player.js';
import { json, startSystem, type System } from '../helpers/system.js';
import { haveTools } from '../helpers/tools.js';
import { startUdpProxy } from '../helpers/udp-proxy.js';
import { waitFor } from '../helpers/wait.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto');

const playable = (system: System) =>
  expectPlayableByFfmpeg(`${system.baseUrl}/hls/stream.m3u8`, { seconds: 2, minSeconds: 1.9, minFrames: 54 });

/** Stream ids of the segments in HLS_DIR (plain HLS), and whether temp files were left. */
async function runsOnDisk(system: System): Promise<{ runs: Set<string>; temp: string[] }> {
  const files = await system.hlsFiles();
  return {
    runs: new Set(files.filter((f) => /\.m4s$/.test(f)).map((f) => f.replace(/-\d+\.m4s$/, ''))),
    temp: files.filter((f) => f.endsWith('.tmp')),
  };
}

describe.runIf(ready)('faults at the web service', () => {
  const cleanup = useCleanup();

  test.each(['ll', 'plain'] as const)(
    'HLS_MODE=%s: the segmenter SIGKILLed while live is replaced; no orphan, no stale files; the stream goes on',
    async (mode) => {
      const system = await startSystem(cleanup, {
        broker: 'mosquitto',
        webEnv: mode === 'plain' ? { HLS_MODE: 'plain' } : {},
      });
      await goLive(system);
      const live = mode === 'll' ? watchLive(system.baseUrl) : undefined;
      if (live) cleanup.add(() => live.stop());
      await sleep(2000);
      const [killed] = await system.segmenterPids();
      const killedAt = Date.now();
      process.kill(killed!, 'SIGKILL');
      const replacement = await waitFor('a new segmenter', async () => {
        const pids = await system.segmenterPids();
        return pids.length === 1 && pids[0] !== killed && pids[0];
      });
      if (live) {
        // A part of the new run (its own stream id, after a discontinuity with a new EXT-X-MAP).
        const oldRun = live.parts[0]!.uri.slice(0, 17);
        await waitFor('a part of the new run', () => live.parts.some((p) => !p.uri.startsWith(oldRun)), {
          timeoutMs: 15_000,
        });
      } else {
        await waitFor(
          'the new run listed',
          async () =>
            (await runsOnDisk(system)).runs.size === 1 &&
            /#EXT-X-DISCONTINUITY/.test(await (await fetch(`${system.baseUrl}/hls/stream.m3u8`)).text()),
          {
            timeoutMs: 15_000,
          },
        );
      }
      const resumeMs = Date.now() - killedAt;
      expect(alive(killed!)).toBe(false);
      expect(await streamInfo(system)).toMatchObject({ state: 'live' });
      expect((await streamInfo(system)).lastError).toBeUndefined();
      await playable(system);
      expect(await system.segmenterPids(), system.web.output().slice(-6000)).toEqual([replacement]);
      if (live) {
        await live.stop();
        expect(live.violations).toEqual([]);
        expect(live.discontinuities.size).toBe(1);
      } else {
        // The killed run's segments and temp files are gone once the new run plays.
        const disk = await runsOnDisk(system);
        expect(disk.runs.size).toBe(1);
        expect(disk.temp.every((name) => [...disk.runs].some((run) => name.startsWith(run)))).toBe(true);
      }
      recordFigures({ mode, resumeMs });
    },
  );

  test.each(['ll', 'plain'] as const)(
    'HLS_MODE=%s: SIGTERM while live: exits 0, no ffmpeg left, no files; started again it takes the running camera up',
    async (mode) => {
      const system = await startSystem(cleanup, {
        broker: 'mosquitto',
        webEnv: mode === 'plain' ? { HLS_MODE: 'plain' } : {},
      });
      await goLive(system);
      const [segmenter] = await system.segmenterPids();
      // A player waiting on a blocking reload, as every LL-HLS viewer is, must not hold the exit.
      const held = fetch(`${system.baseUrl}/hls/stream.m3u8?_HLS_msn=999999`).catch(() => undefined);
      const termAt = Date.now();
      const exit = await system.web.stop('SIGTERM', 15_000);
      const exitMs = Date.now() - termAt;
      await held;
      expect(exit, system.web.output().slice(-3000)).toEqual({ code: 0, signal: null });
      expect(alive(segmenter!)).toBe(false);
      expect(await system.segmenterPids()).toEqual([]);
      expect(await system.hlsFiles()).toEqual([]);
      // The camera was not told to stop (nobody asked): a service started again joins it.
      const restartAt = Date.now();
      await system.startWeb();
      await waitFor('the stream taken up again', async () => (await streamInfo(system)).state === 'live', {
        timeoutMs: 15_000,
      });
      const takenUpMs = Date.now() - restartAt;
      await playable(system);
      recordFigures({ mode, exitMs, takenUpMs });
    },
  );

  test('SIGKILL while the camera is silent: the segmenter exits with the service (its input closes); the next boot takes the stream up once the video is back, however late', async () => {
    // A shorter START_TIMEOUT_MS, so that the video is still cut when the first pickup gives up.
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      agent: false,
      webEnv: { START_TIMEOUT_MS: '5000' },
    });
    const hop = await startUdpProxy(cleanup, system.udpPort);
    await system.startAgent({ UDP_TARGET: hop.url });
    await goLive(system);
    hop.cut();
    await waitFor('silent', async () => (await streamInfo(system)).input?.state === 'silent');
    const [segmenter] = await system.segmenterPids();
    cleanup.add(() => (alive(segmenter!) ? process.kill(segmenter!, 'SIGKILL') : undefined));
    const killedAt = Date.now();
    await system.web.stop('SIGKILL');
    // ffmpeg reads the service's pipe, not the UDP port: the end of its input ends it, no orphan.
    await waitFor('the segmenter to exit', () => !alive(segmenter!), { timeoutMs: 5000 });
    const segmenterGoneMs = Date.now() - killedAt;

    await system.startWeb();
    // The camera says it streams, its video does not come: the pickup gives up, and is tried again.
    await waitFor(
      'a pickup that found no video',
      async () => (await streamInfo(system)).lastError?.code === 'WEB_ERR_MANIFEST_TIMEOUT',
      { timeoutMs: 15_000 },
    );
    const restoredAt = Date.now();
    hop.restore();
    await waitFor('the stream taken up again', async () => (await streamInfo(system)).state === 'live', {
      timeoutMs: 15_000,
    });
    const takenUpMs = Date.now() - restoredAt;
    await playable(system);
    expect(await system.segmenterPids()).toHaveLength(1);
    recordFigures({ segmenterGoneMs, takenUpMs });
  });

  test('another process holds the UDP port: start fails at once naming it, and works once the port is free', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto' });
    const stranger = createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(system.udpPort, '127.0.0.1', resolve));
    cleanup.add(() => new Promise<void>((resolve) => stranger.close(() => resolve())).catch(() => {}));
    const answer = await system.api('/api/stream/start', json());
    expect(answer.status).toBe(500);
    expect(answer.body).toMatchObject({
      code: 'WEB_ERR_UDP_LISTEN_FAILED',
      message: expect.stringContaining(`UDP port ${system.udpPort} is held by pid ${process.pid}`),
    });
    expect(await system.segmenterPids()).toEqual([]);
    expect(await streamInfo(system)).toMatchObject({ state: 'idle', camera: { state: 'idle' } });
    await new Promise<void>((resolve) => stranger.close(() => resolve()));
    await goLive(system);
  });
});
