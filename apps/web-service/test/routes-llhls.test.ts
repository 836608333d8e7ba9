/**
 * /hls in LL-HLS mode: routes/hls.ts serving a packager fed real fMP4 from ffmpeg, through
 * app.inject() (and a raw socket for paths a client would normalize). Content types, cache headers,
 * CORS, HEAD, blocking reloads and the preload hint, the delivery-directive errors, and names that
 * are not the packager's: 404 before the packager is asked.
 */
import { connect, type AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { createError, isServiceError, toErrorBody } from '../src/errors.js';
import type { LlHlsPackager } from '../src/outputs/ll-hls/packager.js';
import { hlsRoutes, PLAYLIST_CACHE_CONTROL, SEGMENT_CACHE_CONTROL } from '../src/routes/hls.js';
import { initName, newStreamId, partName, segmentName } from '../src/outputs/names.js';
import { encodeFmp4, splitFmp4 } from './helpers/fmp4-media.js';
import { packager, Run } from './helpers/packager-run.js';
import { type Cleanup, tempDir, useCleanup } from '../../../test/helpers/cleanup.js';
import { judgeLlHlsPlaylist, preloadHint, parseMediaPlaylist } from '../../../test/helpers/ll-hls.js';
import { haveTools } from '../../../test/helpers/tools.js';

const ready = haveTools('ffmpeg');

interface Live {
  readonly app: FastifyInstance;
  readonly packager: LlHlsPackager;
  readonly streamId: string;
  /** Pushes the next `count` frames. */
  frames(count: number): void;
}

/**
 * The /hls routes over a packager, with the service's JSON errors (app.ts answers ServiceErrors the
 * same way), and `pushed` frames of `fragments` already in.
 */
async function startLive(
  cleanup: Cleanup,
  media: { init: Buffer; fragments: Buffer[] },
  pushed: number,
  { listen = false } = {},
): Promise<Live> {
  const hlsDir = await tempDir(cleanup, 'camstream-ws-ll-');
  // The steady stream's numbering (1 s segments from msn 0): the start is the packager tests' job.
  const p = packager();
  const app = Fastify({ logger: false });
  app.setErrorHandler((error, _request, reply) => {
    const body = toErrorBody(isServiceError(error) ? error : createError('WEB_ERR_INTERNAL', String(error)));
    return reply.code(body.statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(toErrorBody(createError('WEB_ERR_NOT_FOUND', `${request.method} ${request.url}`))),
  );
  await app.register(hlsRoutes, {
    hlsDir,
    registry: { default: { packager: p, hlsDir }, get: () => undefined },
  });
  cleanup.add(() => app.close());
  cleanup.add(() => p.clear()); // held requests answer, so the app can close
  if (listen) await app.listen({ host: '127.0.0.1', port: 0 });
  else await app.ready();
  const run = new Run(p, media);
  run.frames(pushed);
  return { app, packager: p, streamId: run.streamId, frames: (count) => run.frames(count) };
}

/** Resolves after a few turns of the event loop: long enough for an unheld request to have answered. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe.runIf(ready)('/hls in LL-HLS mode (from the packager’s memory)', () => {
  const cleanup = useCleanup();
  let media: { init: Buffer; fragments: Buffer[] };
  beforeAll(async () => {
    media = splitFmp4(await encodeFmp4({ seconds: 12 }));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  // 70 frames: segments 0 and 1 complete, segment 2 open with part 0 (frames 60-65), 66-69 pending.
  const start = (options?: { listen?: boolean }) => startLive(cleanup, media, 70, options);

  test('the playlist: HLS content type, revalidated by players and kept 1 s by an edge, CORS; hls-parser and the spec’s rules agree with it', async () => {
    const { app, streamId } = await start();
    const answer = await app.inject('/hls/stream.m3u8');
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(answer.headers['cache-control']).toBe(PLAYLIST_CACHE_CONTROL);
    expect(answer.headers['cache-control']).toBe('public, max-age=0, s-maxage=1');
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    const judgement = judgeLlHlsPlaylist(answer.body);
    expect(judgement.violations).toEqual([]);
    expect(preloadHint(judgement.playlist!)).toEqual({ streamId, msn: 2, part: 1 });
  });

  test('init segment, segment and part: video/mp4, cached for good (names are never reused), CORS', async () => {
    const { app, streamId } = await start();
    const expected: [string, Buffer][] = [
      [initName(streamId), media.init],
      [segmentName(streamId, 1), Buffer.concat(media.fragments.slice(30, 60))],
      [partName(streamId, 2, 0), Buffer.concat(media.fragments.slice(60, 66))],
    ];
    for (const [name, bytes] of expected) {
      const answer = await app.inject(`/hls/${name}`);
      expect(answer.statusCode, name).toBe(200);
      expect(answer.headers['content-type'], name).toBe('video/mp4');
      expect(answer.headers['cache-control'], name).toBe(SEGMENT_CACHE_CONTROL);
      expect(answer.headers['cache-control'], name).toBe('public, max-age=31536000, immutable');
      expect(answer.headers['access-control-allow-origin'], name).toBe('*');
      expect(answer.rawPayload.equals(bytes), name).toBe(true);
    }
  });

  test('HEAD and the CORS preflight', async () => {
    const { app, streamId } = await start();
    const head = await app.inject({ method: 'HEAD', url: '/hls/stream.m3u8' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(head.body).toBe('');
    const headPart = await app.inject({ method: 'HEAD', url: `/hls/${partName(streamId, 2, 0)}` });
    expect(headPart.statusCode).toBe(200);
    expect(headPart.headers['content-type']).toBe('video/mp4');
    const preflight = await app.inject({ method: 'OPTIONS', url: `/hls/${partName(streamId, 2, 0)}` });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-methods']).toMatch(/GET.*HEAD/);
  });

  test('a blocking reload is held until the part is listed, then answered with it', async () => {
    const { app, streamId, frames } = await start();
    let answered = false;
    const pending = app.inject('/hls/stream.m3u8?_HLS_msn=2&_HLS_part=1').then((answer) => {
      answered = true;
      return answer;
    });
    await settle();
    expect(answered).toBe(false);
    frames(1); // frame 70: part 1 of segment 2 still lacks frame 71
    await settle();
    expect(answered).toBe(false);
    frames(1);
    const answer = await pending;
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(answer.body).toContain(`URI="${partName(streamId, 2, 1)}"`);
    expect(judgeLlHlsPlaylist(answer.body).violations).toEqual([]);
    // Right for its URL while the part is listed: an edge keeps it three target durations.
    expect(answer.headers['cache-control']).toBe('public, max-age=3');
  });

  test('asked with an Authorization header, every answer is the player’s alone (private)', async () => {
    const { app, streamId } = await start();
    const headers = { authorization: 'Bearer anything' };
    const playlist = await app.inject({ url: '/hls/stream.m3u8', headers });
    expect(playlist.headers['cache-control']).toBe('private, max-age=0');
    const blocking = await app.inject({ url: '/hls/stream.m3u8?_HLS_msn=2&_HLS_part=0', headers });
    expect(blocking.headers['cache-control']).toBe('private, max-age=3');
    const part = await app.inject({ url: `/hls/${partName(streamId, 2, 0)}`, headers });
    expect(part.headers['cache-control']).toBe('private, max-age=31536000, immutable');
  });

  test('_HLS_skip=YES: a delta update when something is old enough, else the full playlist', async () => {
    const { app, frames } = await start();
    const early = await app.inject('/hls/stream.m3u8?_HLS_skip=YES');
    expect(early.statusCode).toBe(200);
    expect(early.body).not.toContain('#EXT-X-SKIP');
    frames(8 * 30); // 10.3 s made: six segments listed, the oldest 6.x s from the end
    const delta = await app.inject('/hls/stream.m3u8?_HLS_skip=YES');
    expect(delta.body).toContain('#EXT-X-SKIP:SKIPPED-SEGMENTS=1\n');
    const judgement = judgeLlHlsPlaylist(delta.body);
    expect(judgement.violations).toEqual([]);
    const full = parseMediaPlaylist((await app.inject('/hls/stream.m3u8')).body);
    expect(judgement.playlist!.segments.map((s) => s.uri)).toEqual(full.segments.slice(1).map((s) => s.uri));
  });

  test('the preload-hinted part is held until it is made, then served', async () => {
    const { app, streamId, frames } = await start();
    let answered = false;
    const pending = app.inject(`/hls/${partName(streamId, 2, 1)}`).then((answer) => {
      answered = true;
      return answer;
    });
    await settle();
    expect(answered).toBe(false);
    frames(2);
    const answer = await pending;
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('video/mp4');
    expect(answer.rawPayload.equals(Buffer.concat(media.fragments.slice(66, 72)))).toBe(true);
  });

  test.each([
    ['_HLS_part without _HLS_msn', '?_HLS_part=1', 'WEB_ERR_BAD_REQUEST'],
    ['a malformed _HLS_msn', '?_HLS_msn=next', 'WEB_ERR_BAD_REQUEST'],
    ['a negative _HLS_part', '?_HLS_msn=2&_HLS_part=-1', 'WEB_ERR_BAD_REQUEST'],
    ['_HLS_skip=NO', '?_HLS_skip=NO', 'WEB_ERR_BAD_REQUEST'],
    ['a segment more than two ahead', '?_HLS_msn=5', 'WEB_ERR_HLS_TOO_FAR_AHEAD'],
    ['parts beyond the Advance Part Limit', '?_HLS_msn=2&_HLS_part=16', 'WEB_ERR_HLS_TOO_FAR_AHEAD'],
  ])('%s: 400 JSON at once', async (_name, query, code) => {
    const { app } = await start();
    const answer = await app.inject(`/hls/stream.m3u8${query}`);
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ statusCode: 400, code, error: 'Bad Request' });
    // An edge or a CDN must not keep an error.
    expect(answer.headers['cache-control']).toBe('no-store');
  });

  test('a blocking reload nothing answers: 503 WEB_ERR_HLS_BLOCKING_TIMEOUT after three target durations', async () => {
    const { app } = await start();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const pending = app.inject('/hls/stream.m3u8?_HLS_msn=3&_HLS_part=0');
    await vi.advanceTimersByTimeAsync(2999);
    let answered = false;
    void pending.then(() => (answered = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(answered).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const answer = await pending;
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.json()).toMatchObject({
      statusCode: 503,
      code: 'WEB_ERR_HLS_BLOCKING_TIMEOUT',
      message: expect.stringContaining('segment 3 part 0'),
    });
  });

  test('a stop answers the held requests: the playlist is 404 then', async () => {
    const { app, packager } = await start();
    const pending = app.inject('/hls/stream.m3u8?_HLS_msn=3');
    await settle();
    packager.clear();
    const answer = await pending;
    expect(answer.statusCode).toBe(404);
    expect(answer.json()).toMatchObject({ code: 'WEB_ERR_NOT_FOUND' });
    expect((await app.inject('/hls/stream.m3u8')).statusCode).toBe(404);
  });

  test('names that are not the packager’s, or not made and not hinted: 404 JSON, at once', async () => {
    const { app, streamId } = await start();
    const other = newStreamId();
    for (const name of [
      `${streamId}-00000.ts`,
      `${initName(streamId)}.tmp`,
      `${streamId}-init.MP4`,
      initName(other),
      segmentName(other, 1),
      segmentName(streamId, 99),
      segmentName(streamId, 2), // the open segment: not complete yet
      partName(streamId, 2, 5), // not the next part
      partName(streamId, 7, 0),
      partName(streamId, 2, 99999),
      'stream.m3u8.tmp',
      '.hidden',
      `sub/${initName(streamId)}`,
      `..%2f${initName(streamId)}`,
      '%2e%2e/%2e%2e/etc/passwd',
      '',
    ]) {
      const answer = await app.inject(`/hls/${name}`);
      expect(answer.statusCode, name).toBe(404);
      expect(answer.json(), name).toMatchObject({ code: 'WEB_ERR_NOT_FOUND' });
    }
  });

  test('over a raw socket, paths with dot segments: 404', async () => {
    const { app, streamId } = await start({ listen: true });
    const port = (app.server.address() as AddressInfo).port;
    for (const path of [
      `/hls/../${initName(streamId)}`,
      `/hls/./${initName(streamId)}`,
      `/hls/sub/../${initName(streamId)}`,
      '/hls/../../../../etc/passwd',
      '/hls/..%5c..%5cetc%5cpasswd',
    ]) {
      const answer = await rawGet(port, path);
      expect(answer, path).toMatch(/^HTTP\/1\.1 404/);
      expect(answer, path).toContain('"code":"WEB_ERR_NOT_FOUND"');
    }
    expect(await rawGet(port, `/hls/${initName(streamId)}`)).toMatch(/^HTTP\/1\.1 200/);
  });
});

/** Sends the request line as written: fetch() and inject() would resolve `..` and `.` first. */
function rawGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}
