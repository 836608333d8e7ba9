/**
 * HLS_WORKERS (src/egress/): the service with one egress worker beside it, its default camera's
 * packager fed real fMP4 from memory (as routes-hls-fast.test.ts does). Which process answers a
 * connection is the kernel's choice, so each test first finds a connection the worker accepted
 * (its answer counter moves, the service's does not) and then speaks on it: the worker's answers
 * equal the service's own (app.inject(): status, headers, bytes), held requests wait in the worker
 * for their part, what it must not answer reaches the service whole through the hand-off, and a
 * killed worker is replaced.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { initName, partName, segmentName } from '../src/outputs/names.js';
import { encodeFmp4, splitFmp4 } from './helpers/fmp4-media.js';
import { injectGet, routeHeaders, startLive, type Live } from './helpers/live-app.js';
import { KeptAlive, type KeptAnswer } from '../../../test/helpers/keep-alive.js';
import { useCleanup, type Cleanup } from '../../../test/helpers/cleanup.js';
import { haveTools } from '../../../test/helpers/tools.js';

const ready = haveTools('ffmpeg');

async function counters(app: FastifyInstance) {
  const stats = await app.camstream.egress!.stats();
  return {
    service: app.camstream.hlsFastAnswers,
    worker: stats.reduce((sum, worker) => sum + worker.answered, 0),
    handedOff: stats.reduce((sum, worker) => sum + worker.handedOff, 0),
    held: stats.reduce((sum, worker) => sum + worker.held, 0),
  };
}

/** A connection the worker accepted (it answered a playlist on it), once the worker is up. */
async function workerConnection(cleanup: Cleanup, live: Live, owner: 'worker' | 'service' = 'worker') {
  const { app, port } = live;
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const connection = await KeptAlive.open(port);
    cleanup.add(() => connection.close());
    const before = await counters(app);
    await connection.get('/hls/stream.m3u8');
    const after = await counters(app);
    if (after[owner] === before[owner] + 1) return connection;
    connection.close();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no connection reached the ${owner}`);
}

function expectSame(answer: KeptAnswer, reference: Awaited<ReturnType<typeof injectGet>>, what: string) {
  expect(answer.status, what).toBe(reference.status);
  expect(routeHeaders(answer.headers), what).toEqual(reference.headers);
  expect(answer.body.equals(reference.body), what).toBe(true);
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe.runIf(ready)('HLS_WORKERS=1: an egress worker beside the service (src/egress/)', () => {
  const cleanup = useCleanup();
  let media: { init: Buffer; fragments: Buffer[] };
  beforeAll(async () => {
    media = splitFmp4(await encodeFmp4({ seconds: 4 }));
  });

  test('the worker answers playlists (full, delta, blocking and ready), init segment, segment and part as the service does', async () => {
    const live = await startLive(cleanup, media, { HLS_WORKERS: '1' });
    const { app, streamId } = live;
    const connection = await workerConnection(cleanup, live);
    const byService = await workerConnection(cleanup, live, 'service');
    const paths = [
      '/hls/stream.m3u8',
      '/hls/stream.m3u8?_HLS_skip=YES',
      '/hls/stream.m3u8?_HLS_msn=2&_HLS_part=0',
      '/hls/stream.m3u8?_HLS_msn=1&_HLS_skip=YES',
      '/hls/stream.m3u8?_HLS_msn=1&other=1',
      `/hls/${initName(streamId)}`,
      `/hls/${segmentName(streamId, 1)}`,
      `/hls/${partName(streamId, 2, 0)}`,
      `/hls/cam1/${partName(streamId, 2, 0)}`,
      '/hls/cam1/stream.m3u8',
    ];
    for (const path of paths) {
      const before = await counters(app);
      const answer = await connection.get(path);
      const after = await counters(app);
      expect(after.worker, `${path}: answered by the worker`).toBe(before.worker + 1);
      expect(after.service, path).toBe(before.service);
      expect(answer.status, path).toBe(200);
      expectSame(answer, await injectGet(app, path), path);
      // What Node's server adds on a socket, too: all but the date as the service writes them.
      const { date: _date, ...headers } = answer.headers;
      const { date: _serviceDate, ...serviceHeaders } = (await byService.get(path)).headers;
      expect(headers, path).toEqual(serviceHeaders);
    }
  });

  test('a blocking reload and the hinted part are held in the worker until the part is made; a reload nothing answers goes to the service after three target durations', async () => {
    const live = await startLive(cleanup, media, { HLS_WORKERS: '1' });
    const { app, streamId, frames } = live;
    const [first, second, third] = [
      await workerConnection(cleanup, live),
      await workerConnection(cleanup, live),
      await workerConnection(cleanup, live),
    ];
    const blocking = '/hls/stream.m3u8?_HLS_msn=2&_HLS_part=1&_HLS_skip=YES';
    const hinted = `/hls/${partName(streamId, 2, 1)}`;
    const before = await counters(app);
    let answered = 0;
    const count = (answer: KeptAnswer) => ((answered += 1), answer);
    const pending = [first!.get(blocking).then(count), second!.get(hinted).then(count)];
    await settle();
    expect(answered).toBe(0);
    expect((await counters(app)).held).toBe(2);
    frames(1); // frame 70: part 1 of segment 2 still lacks frame 71
    await settle();
    expect(answered).toBe(0);
    frames(1);
    const [playlist, part] = await Promise.all(pending);
    const after = await counters(app);
    expect(after.worker).toBe(before.worker + 2);
    expect(after.service).toBe(before.service);
    expect(playlist!.body.toString()).toContain(`URI="${partName(streamId, 2, 1)}"`);
    expectSame(playlist!, await injectGet(app, blocking), blocking);
    expect(part!.body.equals(Buffer.concat(media.fragments.slice(66, 72)))).toBe(true);
    expectSame(part!, await injectGet(app, hinted), hinted);

    // Beyond the stream's end (no more frames come, so no update either): the worker cannot tell a
    // stalled stream from its own lag, so at the hold's end the service decides: its coded 503.
    const began = performance.now();
    const late = await third!.get('/hls/stream.m3u8?_HLS_msn=3&_HLS_part=0');
    expect(performance.now() - began).toBeGreaterThanOrEqual(2900);
    expect(late.status).toBe(503);
    expect(JSON.parse(late.body.toString())).toMatchObject({ code: 'WEB_ERR_HLS_BLOCKING_TIMEOUT' });
    expect(routeHeaders(late.headers)['cache-control']).toBe('no-store');
    const [worker] = await app.camstream.egress!.stats();
    expect(worker!.handedOffBy.stale).toBe(1);
    expect(worker!.answered).toBe(after.worker);
  });

  test('what the worker must not answer reaches the service whole, with its connection: another path, POST, credentials, an unknown name', async () => {
    const live = await startLive(cleanup, media, { HLS_WORKERS: '1' });
    const { app, streamId } = live;
    const cases: [string, string, string[], string][] = [
      ['GET', '/api/stream', [], ''],
      ['POST', '/hls/stream.m3u8', ['Content-Type: application/json'], '{}'],
      ['GET', '/hls/stream.m3u8?_HLS_msn=2&_HLS_part=0', ['Authorization: Bearer anything'], ''],
      ['GET', `/hls/${partName(streamId, 2, 5)}`, [], ''],
      ['GET', '/hls/stream.m3u8?_HLS_msn=%32', [], ''],
    ];
    for (const [method, path, headers, body] of cases) {
      const connection = await workerConnection(cleanup, live);
      const before = await counters(app);
      const answer = await connection.request(method, path, headers, body);
      const after = await counters(app);
      const what = `${method} ${path}`;
      expect(after.worker, what).toBe(before.worker);
      expect(after.handedOff, what).toBe(before.handedOff + 1);
      const reference = await app.inject({
        method: method as 'GET' | 'POST',
        url: path,
        headers: Object.fromEntries(headers.map((line) => line.split(': ') as [string, string])),
        ...(body && { payload: body }),
      });
      expect(answer.status, what).toBe(reference.statusCode);
      expect(answer.body.toString(), what).toBe(reference.body);
      // The connection is the service's now: its next request is the service's fast path's.
      await connection.get('/hls/stream.m3u8');
      const then = await counters(app);
      expect(then.service, what).toBe(after.service + 1);
      expect(then.worker, what).toBe(after.worker);
    }
    expect(
      routeHeaders(
        (await (await workerConnection(cleanup, live)).get('/hls/x', ['Authorization: Bearer a'])).headers,
      )['cache-control'],
    ).toBe('no-store');
  });

  test('a worker that dies is replaced, and the new one answers', async () => {
    const live = await startLive(cleanup, media, { HLS_WORKERS: '1' });
    const workers = live.app.camstream.egress!;
    await workerConnection(cleanup, live);
    const [pid] = workers.pids;
    process.kill(pid!, 'SIGKILL');
    for (let i = 0; i < 100 && (workers.pids.length === 0 || workers.pids[0] === pid); i += 1) await settle();
    expect(workers.pids).toHaveLength(1);
    expect(workers.pids[0]).not.toBe(pid);
    expect(workers.forked).toBe(2);
    const connection = await workerConnection(cleanup, live);
    const answer = await connection.get(`/hls/${partName(live.streamId, 2, 0)}`);
    expectSame(answer, await injectGet(live.app, `/hls/${partName(live.streamId, 2, 0)}`), 'a part');
  });
});
