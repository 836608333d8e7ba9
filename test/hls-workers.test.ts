/**
 * HLS_WORKERS from outside: the service CLI with one egress worker, the agent's test source, a real
 * Mosquitto. Viewers on a connection the worker accepted (its answer counter in /metrics moves)
 * follow the live edge with blocking reloads and hinted parts, every playlist judged against RFC
 * 8216bis; ffmpeg plays the stream. The worker never outlives the service: SIGKILLed, the service
 * takes its worker with it and nothing listens on the port after; stopped, the same. And the
 * bench's `--workers` option.
 */
import { describe, expect, test } from 'vitest';
import { parseArgs } from '../bench/viewers/options.js';
import { useCleanup, type Cleanup } from './helpers/cleanup.js';
import { KeptAlive } from './helpers/keep-alive.js';
import { judgeLlHlsPlaylist, type MediaPlaylist } from './helpers/ll-hls.js';
import { expectStreamPlays } from './helpers/live.js';
import { childProcesses, commandLine } from './helpers/processes.js';
import { json, startSystem, type System } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto');

/** The service's egress workers: its node children running worker.js. */
async function workersOf(servicePid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await childProcesses(servicePid))
    if ((await commandLine(pid))?.includes('egress/worker.js')) pids.push(pid);
  return pids;
}

async function workerAnswers(system: System): Promise<number> {
  const { body } = await system.api('/metrics');
  const line = String(body)
    .split('\n')
    .find((text) => text.startsWith('camstream_egress_answers{'));
  return Number(line?.split(' ').at(-1) ?? NaN);
}

/** A kept-alive connection the worker accepted: its playlist answer moved the worker's counter. */
async function workerConnection(cleanup: Cleanup, system: System): Promise<KeptAlive> {
  const port = Number(new URL(system.baseUrl).port);
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const connection = await KeptAlive.open(port);
    cleanup.add(() => connection.close());
    const before = await workerAnswers(system);
    expect((await connection.get('/hls/stream.m3u8')).status).toBe(200);
    if ((await workerAnswers(system)) === before + 1) return connection;
    connection.close();
  }
  throw new Error('no connection reached the worker');
}

async function refused(port: number): Promise<boolean> {
  try {
    (await KeptAlive.open(port)).close();
    return false;
  } catch {
    return true;
  }
}

describe('bench:viewers --workers', () => {
  test('HLS_WORKERS values, each step run once per value; bad values refused', () => {
    expect(parseArgs([]).workers).toEqual([0]);
    expect(parseArgs(['--workers', '0,1,1']).workers).toEqual([0, 1]);
    expect(() => parseArgs(['--workers', '-1'])).toThrow(/--workers/);
    expect(() => parseArgs(['--workers', 'two'])).toThrow(/--workers/);
  });
});

describe.runIf(ready)('HLS_WORKERS=1: the service CLI with an egress worker', () => {
  const cleanup = useCleanup();

  async function live(): Promise<System> {
    const system = await startSystem(cleanup, { broker: 'mosquitto', webEnv: { HLS_WORKERS: '1' } });
    expect((await system.api('/api/stream/start', json())).status).toBe(200);
    await waitFor('the egress worker', async () => (await workersOf(system.web.proc.pid!)).length === 1);
    return system;
  }

  test('viewers on the worker follow the live edge (blocking reloads, hinted parts), and ffmpeg plays the stream', async () => {
    const system = await live();
    const [reloads, parts] = [
      await workerConnection(cleanup, system),
      await workerConnection(cleanup, system),
    ];
    const before = await workerAnswers(system);
    let text = (await reloads.get('/hls/stream.m3u8')).body.toString();
    let previous: MediaPlaylist | undefined;
    for (let i = 0; i < 10; i += 1) {
      const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)?.[1];
      const position = /-(\d{5,})\.(\d+)\.m4s$/.exec(hint ?? '');
      expect(position, text).not.toBeNull();
      const [msn, part] = [Number(position![1]), Number(position![2])];
      const [playlist, media] = await Promise.all([
        reloads.get(`/hls/stream.m3u8?_HLS_msn=${msn}&_HLS_part=${part}${i % 2 ? '&_HLS_skip=YES' : ''}`),
        parts.get(`/hls/${hint}`),
      ]);
      expect(playlist.status).toBe(200);
      expect(playlist.headers['cache-control']).toBe('public, max-age=3');
      text = playlist.body.toString();
      expect(text).toContain(`URI="${hint}"`);
      expect(media.status).toBe(200);
      expect(media.headers['content-type']).toBe('video/mp4');
      expect(media.body.length).toBeGreaterThan(0);
      if (!text.includes('#EXT-X-SKIP')) {
        const judged = judgeLlHlsPlaylist(text, previous);
        expect(judged.violations).toEqual([]);
        previous = judged.playlist;
      }
    }
    expect(await workerAnswers(system)).toBe(before + 1 + 2 * 10);
    await expectStreamPlays(system);
  });

  test('SIGKILLed, the service takes its worker with it, and nothing is left on the port', async () => {
    const system = await live();
    await workerConnection(cleanup, system);
    const [worker] = await workersOf(system.web.proc.pid!);
    system.web.proc.kill('SIGKILL');
    await waitFor('the worker to exit', async () => {
      try {
        process.kill(worker!, 0);
        return false;
      } catch {
        return true;
      }
    });
    expect(await refused(Number(new URL(system.baseUrl).port))).toBe(true);
  });

  test('stopped (SIGTERM), the service stops its worker and exits', async () => {
    const system = await live();
    const [worker] = await workersOf(system.web.proc.pid!);
    await system.web.stop();
    expect(system.web.proc.exitCode).toBe(0);
    expect(() => process.kill(worker!, 0)).toThrow();
    expect(await refused(Number(new URL(system.baseUrl).port))).toBe(true);
  });
});
