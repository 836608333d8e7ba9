/**
 * 200 start and stop requests (7 in 10 starts) from 8 concurrent clients, interleaved at random (seeded; the seed is
 * printed): never more than one segmenter or one encoder at any moment, every answer a 200 or a 409
 * (a start cancelled by a stop), a final state the service, the camera and the processes agree on,
 * and after a last stop nothing left: no process, no file, no file descriptor beyond the baseline.
 */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { descriptors, streamInfo, total } from '../helpers/faults.js';
import { recordFigures } from '../helpers/figures.js';
import { childProcesses, commandLine } from '../helpers/processes.js';
import { json, startSystem, type System } from '../helpers/system.js';
import { haveTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { seededRandom } from '../helpers/random.js';

const ready = haveTools('ffmpeg', 'mosquitto');
const REQUESTS = 200;
const CLIENTS = 8;

/** POST on a connection of its own, closed after the answer: the clients hold no sockets afterwards. */
function post(system: System, path: string): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${system.baseUrl}${path}`,
      { method: 'POST', headers: { connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, code: (JSON.parse(body) as { code?: string }).code }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The service's log lines but its HTTP requests (the waits' own polling would fill a failure message). */
function withoutRequests(log: string): string {
  return log
    .split('\n')
    .filter((line) => !/"msg":"(request|request completed)"/.test(line))
    .join('\n');
}

async function encoders(system: System): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await childProcesses(system.agent!.proc.pid!)) {
    if ((await commandLine(pid))?.includes('lavfi')) found.push(pid);
  }
  return found;
}

describe.runIf(ready)('a storm of starts and stops', () => {
  const cleanup = useCleanup();

  test(`${REQUESTS} start and stop requests from ${CLIENTS} concurrent clients: one segmenter at most, a consistent end, nothing leaked`, async () => {
    const seed = Number(process.env.CAMSTREAM_STORM_SEED ?? Date.now() % 1_000_000);
    const next = seededRandom(seed);
    console.log(`[storm] seed ${seed} (CAMSTREAM_STORM_SEED=${seed} replays it)`);
    const system = await startSystem(cleanup, { broker: 'mosquitto' });
    const web = system.web.proc.pid!;
    const agent = system.agent!.proc.pid!;
    // One cycle first, so that what is opened once (fluent-ffmpeg's probe, MQTT) is in the baseline.
    expect((await system.api('/api/stream/start', json())).status).toBe(200);
    expect((await system.api('/api/stream/stop', json())).status).toBe(200);
    await waitFor('the camera idle', async () => (await streamInfo(system)).camera?.state === 'idle');
    await sleep(500);
    const baseline = { web: await descriptors(web), agent: await descriptors(agent) };

    let most = { segmenters: 0, encoders: 0 };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [s, e] = await Promise.all([system.segmenterPids(), encoders(system)]);
        most = {
          segmenters: Math.max(most.segmenters, s.length),
          encoders: Math.max(most.encoders, e.length),
        };
        await sleep(20);
      }
    })();
    cleanup.add(() => {
      sampling = false;
      return sampler;
    });

    const answers = new Map<string, number>();
    let sent = 0;
    const began = Date.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (sent < REQUESTS) {
          sent += 1;
          const action = next() < 0.3 ? 'stop' : 'start';
          const answer = await post(system, `/api/stream/${action}`);
          const key = `${action} ${answer.status}${answer.code ? ` ${answer.code}` : ''}`;
          answers.set(key, (answers.get(key) ?? 0) + 1);
          await sleep(next() * 1000);
        }
      }),
    );
    const stormMs = Date.now() - began;

    // The service, the camera and the processes agree, once the last commands have landed.
    let seen = '';
    const settled = await waitFor(
      () =>
        `a state everyone agrees on (seed ${seed}; last seen ${seen})\n` +
        `the agent's log, its end:\n${system.agent!.output().slice(-6000)}\n` +
        `the service's log without its requests, its end:\n${withoutRequests(system.web.output()).slice(-6000)}`,
      async () => {
        const info = await streamInfo(system);
        const [s, e] = [(await system.segmenterPids()).length, (await encoders(system)).length];
        seen = JSON.stringify({
          service: info.state,
          camera: info.camera?.state,
          segmenters: s,
          encoders: e,
        });
        if (info.state === 'live' && info.camera?.state === 'streaming' && s === 1 && e === 1) return 'live';
        if (info.state === 'idle' && info.camera?.state === 'idle' && s === 0 && e === 0) return 'idle';
        return undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    sampling = false;
    await sampler;

    expect(most).toEqual({ segmenters: 1, encoders: 1 });
    for (const key of answers.keys())
      expect(['start 200', 'start 409 WEB_ERR_START_CANCELLED', 'stop 200']).toContain(key);
    expect(answers.get('start 200') ?? 0).toBeGreaterThan(0); // some starts got through

    // A last stop leaves nothing behind.
    expect((await system.api('/api/stream/stop', json())).status).toBe(200);
    await waitFor('the camera idle', async () => (await streamInfo(system)).camera?.state === 'idle');
    expect(await system.segmenterPids()).toEqual([]);
    expect(await encoders(system)).toEqual([]);
    expect(await system.hlsFiles()).toEqual([]);
    await sleep(500);
    const after = { web: await descriptors(web), agent: await descriptors(agent) };
    expect(total(after.web), JSON.stringify({ baseline, after })).toBeLessThanOrEqual(
      total(baseline.web) + 1,
    );
    expect(total(after.agent), JSON.stringify({ baseline, after })).toBeLessThanOrEqual(
      total(baseline.agent) + 1,
    );
    recordFigures({
      seed,
      requests: REQUESTS,
      clients: CLIENTS,
      stormMs,
      answers: [...answers].map(([key, n]) => `${key}: ${n}`).join(', '),
      settled,
      mostSegmenters: most.segmenters,
      mostEncoders: most.encoders,
      webFds: `${total(baseline.web)} → ${total(after.web)}`,
      agentFds: `${total(baseline.agent)} → ${total(after.agent)}`,
    });
  });
});
