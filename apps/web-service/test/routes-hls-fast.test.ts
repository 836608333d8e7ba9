/**
 * routes/hls-fast.ts: the LL-HLS answers written before Fastify routes the request. The service
 * (buildApp, listening) with its default camera's packager fed real fMP4 from memory; every answer
 * over a socket (the fast path) is compared with Fastify's own answer to the same request
 * (app.inject(), which never meets the fast path): same status, same headers, same bytes. Then what
 * only a held request meets: answered when its part is made, the coded 503 after three target
 * durations, a client that goes away leaves its group, a stop answers 404. And what the fast path
 * leaves to Fastify (credentials, escapes, errors known at once) is still answered as before.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { beforeAll, describe, expect, test } from 'vitest';
import { UrlSigner } from '../src/door/signed.js';
import { initName, partName, segmentName } from '../src/outputs/names.js';
import { encodeFmp4, splitFmp4 } from './helpers/fmp4-media.js';
import { injectGet, routeHeaders, startLive } from './helpers/live-app.js';
import { useCleanup } from '../../../test/helpers/cleanup.js';
import { haveTools } from '../../../test/helpers/tools.js';

const ready = haveTools('ffmpeg');

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function socketGet(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: routeHeaders(res.headers), body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe.runIf(ready)('/hls before Fastify (routes/hls-fast.ts)', () => {
  const cleanup = useCleanup();
  let media: { init: Buffer; fragments: Buffer[] };
  beforeAll(async () => {
    media = splitFmp4(await encodeFmp4({ seconds: 4 }));
  });

  test('playlists (full, delta, blocking and ready), init segment, segment, part: Fastify’s answer, header for header', async () => {
    const { app, port, streamId } = await startLive(cleanup, media);
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
    ];
    for (const path of paths) {
      const before = app.camstream.hlsFastAnswers;
      const fast = await socketGet(port, path);
      expect(app.camstream.hlsFastAnswers, `${path}: answered by the fast path`).toBe(before + 1);
      const fastify = await injectGet(app, path);
      expect(fast.status, path).toBe(200);
      expect(fast.headers, path).toEqual(fastify.headers);
      expect(fast.body.equals(fastify.body), path).toBe(true);
    }
    // Without tokens, an Authorization header makes the answer private (hls.ts), here as there.
    const headers = { authorization: 'Bearer anything' };
    const privately = await socketGet(port, '/hls/stream.m3u8?_HLS_msn=2&_HLS_part=0', headers);
    expect(privately.headers['cache-control']).toBe('private, max-age=3');
    expect(privately.headers).toEqual(
      (await injectGet(app, '/hls/stream.m3u8?_HLS_msn=2&_HLS_part=0', headers)).headers,
    );
    // The security headers are there (door-headers.test.ts checks their values).
    const playlist = await socketGet(port, '/hls/stream.m3u8');
    expect(playlist.headers['content-security-policy']).toBeDefined();
    expect(playlist.headers['access-control-allow-origin']).toBe('*');
    expect(playlist.headers['cache-control']).toBe('public, max-age=0, s-maxage=1');
  });

  test('what it leaves to Fastify is answered as before: errors known at once, escapes, repeated directives', async () => {
    const { app, port, streamId } = await startLive(cleanup, media);
    const cases: [string, Record<string, string>, number][] = [
      ['/hls/stream.m3u8?_HLS_part=1', {}, 400],
      ['/hls/stream.m3u8?_HLS_msn=9', {}, 400],
      ['/hls/stream.m3u8?_HLS_msn=2&_HLS_msn=3', {}, 400],
      [`/hls/${segmentName(streamId, 2)}`, {}, 404],
      [`/hls/${partName(streamId, 2, 5)}`, {}, 404],
      [`/hls/nocamera/${initName(streamId)}`, {}, 404],
      ['/hls/stream.m3u8?_HLS_msn=%31', {}, 200],
    ];
    for (const [path, headers, status] of cases) {
      const before = app.camstream.hlsFastAnswers;
      const answer = await socketGet(port, path, headers);
      expect(app.camstream.hlsFastAnswers, `${path}: left to Fastify`).toBe(before);
      expect(answer.status, path).toBe(status);
      const fastify = await injectGet(app, path, headers);
      expect(answer.headers, path).toEqual(fastify.headers);
      expect(answer.body.equals(fastify.body), path).toBe(true);
    }
  });

  test('a blocking reload and the hinted part are held until the part is made, then answered as Fastify answers them', async () => {
    const { app, port, packager, streamId, frames } = await startLive(cleanup, media);
    const before = app.camstream.hlsFastAnswers;
    const blocking = '/hls/stream.m3u8?_HLS_msn=2&_HLS_part=1&_HLS_skip=YES';
    const hinted = `/hls/${partName(streamId, 2, 1)}`;
    let answered = 0;
    const pending = [blocking, hinted].map((path) =>
      socketGet(port, path).then((answer) => {
        answered += 1;
        return answer;
      }),
    );
    await settle();
    expect(answered).toBe(0);
    expect(packager.stats().waiting).toBe(2);
    frames(1); // frame 70: part 1 of segment 2 still lacks frame 71
    await settle();
    expect(answered).toBe(0);
    frames(1);
    const [playlist, part] = await Promise.all(pending);
    expect(app.camstream.hlsFastAnswers).toBe(before + 2);
    expect(playlist!.status).toBe(200);
    expect(playlist!.body.toString()).toContain(`URI="${partName(streamId, 2, 1)}"`);
    expect(playlist!.headers['cache-control']).toBe('public, max-age=3');
    const fastifyPlaylist = await injectGet(app, blocking);
    expect(playlist!.headers).toEqual(fastifyPlaylist.headers);
    expect(playlist!.body.equals(fastifyPlaylist.body)).toBe(true);
    expect(part!.status).toBe(200);
    expect(part!.body.equals(Buffer.concat(media.fragments.slice(66, 72)))).toBe(true);
    expect(part!.headers).toEqual((await injectGet(app, hinted)).headers);
  });

  test('nothing answers a held reload: 503 WEB_ERR_HLS_BLOCKING_TIMEOUT after three target durations, as Fastify writes it', async () => {
    const { port } = await startLive(cleanup, media);
    const began = performance.now();
    const answer = await socketGet(port, '/hls/stream.m3u8?_HLS_msn=3&_HLS_part=0');
    expect(performance.now() - began).toBeGreaterThanOrEqual(2900);
    expect(answer.status).toBe(503);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['content-security-policy']).toBeDefined();
    expect(JSON.parse(answer.body.toString())).toEqual({
      statusCode: 503,
      code: 'WEB_ERR_HLS_BLOCKING_TIMEOUT',
      error: 'Service Unavailable',
      message: expect.stringContaining('segment 3 part 0'),
    });
  });

  test('a client that goes away leaves its group; a stop answers the held requests with 404', async () => {
    const { port, packager } = await startLive(cleanup, media);
    const socket = connect({ host: '127.0.0.1', port });
    cleanup.add(() => socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /hls/stream.m3u8?_HLS_msn=3 HTTP/1.1\r\nHost: x\r\n\r\n');
    const staying = socketGet(port, '/hls/stream.m3u8?_HLS_msn=3');
    await settle();
    expect(packager.stats().waiting).toBe(2);
    socket.destroy();
    await settle();
    expect(packager.stats().waiting).toBe(1);
    packager.clear();
    const answer = await staying;
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body.toString())).toMatchObject({
      code: 'WEB_ERR_NOT_FOUND',
      message: 'not found: /hls/stream.m3u8: no stream is live',
    });
    expect(answer.headers['cache-control']).toBe('no-store');
  });

  test('with tokens: a viewer token and a signed URL pass the door here, as the door lets them; the rest is the door’s to refuse', async () => {
    const secret = 'fast-path-secret-0123456789abcdef0123456789';
    const viewer = 'view-fast-0123456789abcdef';
    const { app, port, streamId } = await startLive(cleanup, media, {
      AUTH_TOKENS: `viewer:${viewer}`,
      AUTH_SECRET: secret,
    });
    const signed = new UrlSigner(secret, 600).sign('cam1');
    const bearer = { authorization: `Bearer ${viewer}` };
    const admitted: [string, Record<string, string>][] = [
      ['/hls/stream.m3u8', bearer],
      ['/hls/stream.m3u8?_HLS_msn=2&_HLS_part=0&_HLS_skip=YES', bearer],
      [`/hls/${partName(streamId, 2, 0)}`, bearer],
      [`/hls/stream.m3u8?token=${signed}`, {}],
      [`/hls/cam1/stream.m3u8?_HLS_msn=2&_HLS_part=0&token=${signed}`, {}],
      [`/hls/${partName(streamId, 2, 0)}?token=${signed}`, {}],
    ];
    for (const [path, headers] of admitted) {
      const before = app.camstream.hlsFastAnswers;
      const fast = await socketGet(port, path, headers);
      expect(app.camstream.hlsFastAnswers, `${path}: answered by the fast path`).toBe(before + 1);
      expect(fast.status, path).toBe(200);
      // The signed token of this second: the same as Fastify's if asked within it.
      const fastify = await injectGet(app, path, headers);
      expect(fast.headers, path).toEqual(fastify.headers);
      if (fast.body.equals(fastify.body)) continue;
      const resigned = (text: string) => text.replace(/token=[\w.-]+/g, 'token=T');
      expect(resigned(fast.body.toString()), path).toBe(resigned(fastify.body.toString()));
    }
    const signedPlaylist = (await socketGet(port, `/hls/stream.m3u8?token=${signed}`)).body.toString();
    expect(signedPlaylist).toMatch(/URI="[^"]+\?token=\d+\.[\w-]{43}"/);
    const refused: [string, Record<string, string>, number][] = [
      ['/hls/stream.m3u8', {}, 401],
      ['/hls/stream.m3u8', { authorization: 'Bearer wrong-0123456789abcdef' }, 401],
      [`/hls/stream.m3u8?token=${new UrlSigner(secret, 600).sign('cam2')}`, {}, 401],
      [`/hls/${partName(streamId, 2, 0)}?token=1.${'A'.repeat(43)}`, {}, 401],
    ];
    for (const [path, headers, status] of refused) {
      const before = app.camstream.hlsFastAnswers;
      const answer = await socketGet(port, path, headers);
      expect(app.camstream.hlsFastAnswers, `${path}: left to the door`).toBe(before);
      expect(answer.status, path).toBe(status);
      expect(JSON.parse(answer.body.toString()), path).toMatchObject({ code: 'WEB_ERR_UNAUTHORIZED' });
    }
  });
});
