/** HTTP routes through app.inject(): validation, errors, /hls name filtering, the client at /. */
import { mkdir, writeFile } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { startTestApp } from './helpers/app.js';
import { tempDir, useCleanup } from '../../../test/helpers/cleanup.js';

const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nmwr2xq4f-0c41f1fc-00000.ts\n';
const SEGMENT = 'mwr2xq4f-0c41f1fc-00000.m4s';

describe('the stream API', () => {
  const cleanup = useCleanup();

  test('GET /api/stream: idle, never heard from the camera; LL-HLS by default', async () => {
    const { app } = await startTestApp(cleanup);
    const answer = await app.inject('/api/stream');
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({
      state: 'idle',
      cameraId: 'cam1',
      camera: null,
      hlsMode: 'll',
      ingest: expect.stringMatching(/^udp:\/\/127\.0\.0\.1:\d+$/),
      origin: 'configured',
    });
  });

  test('GET /api/stream with HLS_MODE=plain says so', async () => {
    const { app } = await startTestApp(cleanup, { HLS_MODE: 'plain' });
    expect((await app.inject('/api/stream')).json()).toEqual({
      state: 'idle',
      cameraId: 'cam1',
      camera: null,
      hlsMode: 'plain',
      ingest: expect.stringMatching(/^udp:/),
      origin: 'configured',
    });
  });

  test.each([
    ['an array', '[]'],
    ['an unknown key', '{"camera":"x"}'],
    ['malformed JSON', '{"oops"'],
    ['a string', '"start"'],
    ['a number', '1'],
  ])('POST start with %s: 400 with a coded JSON error, nothing changes', async (_name, payload) => {
    const { app } = await startTestApp(cleanup);
    const answer = await app.inject({
      method: 'POST',
      url: '/api/stream/start',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({
      statusCode: 400,
      code: 'WEB_ERR_BAD_REQUEST',
      error: 'Bad Request',
      message: expect.stringMatching(/^bad request: /),
    });
    expect((await app.inject('/api/stream')).json()).toMatchObject({ state: 'idle' });
  });

  test('POST start with no body, an empty JSON body or {}: accepted (the camera is offline: 503)', async () => {
    const { app } = await startTestApp(cleanup);
    for (const request of [
      {},
      { headers: { 'content-type': 'application/json' }, payload: '' },
      { headers: { 'content-type': 'application/json' }, payload: '{}' },
    ]) {
      const answer = await app.inject({ method: 'POST', url: '/api/stream/start', ...request });
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toMatchObject({ code: 'WEB_ERR_CAMERA_OFFLINE' });
    }
    expect((await app.inject('/api/stream')).json()).toMatchObject({
      state: 'idle',
      lastError: { code: 'WEB_ERR_CAMERA_OFFLINE' },
    });
  });

  test('POST stop when idle: 200 idle', async () => {
    const { app } = await startTestApp(cleanup);
    const answer = await app.inject({ method: 'POST', url: '/api/stream/stop', payload: {} });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ state: 'idle' });
  });

  test('unknown routes: 404 JSON', async () => {
    const { app } = await startTestApp(cleanup);
    const answer = await app.inject('/api/nope');
    expect(answer.statusCode).toBe(404);
    expect(answer.json()).toMatchObject({ statusCode: 404, code: 'WEB_ERR_NOT_FOUND', error: 'Not Found' });
  });
});

describe('/hls in plain mode (files in HLS_DIR)', () => {
  const cleanup = useCleanup();

  async function withFiles() {
    const testApp = await startTestApp(cleanup, { HLS_MODE: 'plain' });
    // Written after startup: the service clears its own leftovers when it starts.
    await writeFile(join(testApp.hlsDir, 'stream.m3u8'), PLAYLIST);
    await writeFile(join(testApp.hlsDir, SEGMENT), Buffer.from([0x47, 0, 0, 0]));
    await writeFile(join(testApp.hlsDir, 'stream.m3u8.tmp'), PLAYLIST);
    await writeFile(join(testApp.hlsDir, `${SEGMENT}.tmp`), 'partial');
    await writeFile(join(testApp.hlsDir, '.hidden'), 'secret');
    await writeFile(join(testApp.hlsDir, 'notes.txt'), 'not ours');
    await mkdir(join(testApp.hlsDir, 'sub'));
    await writeFile(join(testApp.hlsDir, 'sub', 'stream.m3u8'), PLAYLIST);
    return testApp;
  }

  test('the playlist: HLS content type, revalidated by players and kept 1 s by an edge, CORS', async () => {
    const { app } = await withFiles();
    const answer = await app.inject('/hls/stream.m3u8');
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(answer.headers['cache-control']).toBe('public, max-age=0, s-maxage=1');
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(answer.body).toBe(PLAYLIST);
  });

  test('a segment: video/mp4 (fMP4), cached for good (names are never reused), CORS', async () => {
    const { app } = await withFiles();
    const answer = await app.inject(`/hls/${SEGMENT}`);
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('video/mp4');
    expect(answer.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(answer.rawPayload[0]).toBe(0x47);
  });

  test('HEAD and the CORS preflight', async () => {
    const { app } = await withFiles();
    const head = await app.inject({ method: 'HEAD', url: '/hls/stream.m3u8' });
    expect(head.statusCode).toBe(200);
    const preflight = await app.inject({ method: 'OPTIONS', url: '/hls/stream.m3u8' });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
  });

  test.each([
    '/hls/stream.m3u8.tmp',
    `/hls/${SEGMENT}.tmp`,
    '/hls/.hidden',
    '/hls/notes.txt',
    '/hls/sub/stream.m3u8',
    '/hls/',
    '/hls/../package.json',
    '/hls/..%2fpackage.json',
    '/hls/%2e%2e/%2e%2e/etc/passwd',
    '/hls/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/hls//etc/passwd',
    '/hls/stream.m3u8%00',
    '/hls/mwr2xq4f-0c41f1fc-00099.m4s',
  ])('%s: 404 JSON', async (url) => {
    const { app } = await withFiles();
    const answer = await app.inject(url);
    expect(answer.statusCode).toBe(404);
    expect(answer.json()).toMatchObject({ code: 'WEB_ERR_NOT_FOUND' });
  });

  test.each(['plain', 'll'])(
    'HLS_MODE=%s: the playlist is 404 JSON while there is no stream',
    async (mode) => {
      const { app } = await startTestApp(cleanup, { HLS_MODE: mode });
      const answer = await app.inject('/hls/stream.m3u8');
      expect(answer.statusCode).toBe(404);
      expect(answer.json()).toMatchObject({ code: 'WEB_ERR_NOT_FOUND' });
    },
  );

  test.each(['plain', 'll'])(
    'HLS_MODE=%s: startup removes the service’s own leftovers and nothing else',
    async (mode) => {
      const hlsDir = await tempDir(cleanup, 'camstream-ws-left-');
      await writeFile(join(hlsDir, 'stream.m3u8'), PLAYLIST);
      await writeFile(join(hlsDir, SEGMENT), 'x');
      await writeFile(join(hlsDir, 'notes.txt'), 'not ours');
      const { app } = await startTestApp(cleanup, { HLS_DIR: hlsDir, HLS_MODE: mode });
      expect((await app.inject('/hls/stream.m3u8')).statusCode).toBe(404);
      const { readdir } = await import('node:fs/promises');
      expect(await readdir(hlsDir)).toEqual(['notes.txt']);
    },
  );

  test('LL-HLS mode never serves files from HLS_DIR, not even ours', async () => {
    const { app, hlsDir } = await startTestApp(cleanup, { HLS_MODE: 'll' });
    await writeFile(join(hlsDir, 'stream.m3u8'), PLAYLIST);
    await writeFile(join(hlsDir, SEGMENT), Buffer.from([0x47, 0, 0, 0]));
    for (const url of ['/hls/stream.m3u8', `/hls/${SEGMENT}`]) {
      const answer = await app.inject(url);
      expect(answer.statusCode, url).toBe(404);
      expect(answer.json()).toMatchObject({ code: 'WEB_ERR_NOT_FOUND' });
    }
  });
});

describe('the web client at /', () => {
  const cleanup = useCleanup();

  test('served from CLIENT_DIR; index revalidates, hashed assets are cached', async () => {
    const clientDir = await tempDir(cleanup, 'camstream-ws-client-');
    await writeFile(join(clientDir, 'index.html'), '<!doctype html><title>camstream</title>');
    await mkdir(join(clientDir, 'assets'));
    await writeFile(join(clientDir, 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(join(clientDir, '.env'), 'SECRET=1');
    const { app } = await startTestApp(cleanup, { CLIENT_DIR: clientDir });

    const index = await app.inject('/');
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    const asset = await app.inject('/assets/index-abc123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
    expect((await app.inject('/.env')).statusCode).toBe(404);
    expect((await app.inject('/missing.js')).json()).toMatchObject({ code: 'WEB_ERR_NOT_FOUND' });
    // The API still wins over the static wildcard.
    expect((await app.inject('/api/stream')).json()).toMatchObject({ state: 'idle' });
  });

  test('without a build, / says how to make one', async () => {
    const { app } = await startTestApp(cleanup, { CLIENT_DIR: join(tmpdir(), 'camstream-no-such-client') });
    const answer = await app.inject('/');
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toContain('npm run build');
  });
});

describe('/hls over a raw socket (no client-side URL normalization)', () => {
  const cleanup = useCleanup();

  /** Sends the request line as written: fetch() and inject() would resolve `..` and `.` first. */
  function rawGet(port: number, path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
  }

  test.each([
    '/hls/../package.json',
    '/hls/../../../../etc/passwd',
    '/hls/./stream.m3u8',
    '/hls/%2e%2e/%2e%2e/etc/passwd',
    '/hls/..%5c..%5cetc%5cpasswd',
    '/hls/sub/../stream.m3u8',
  ])('%s: 404', async (path) => {
    const { app, hlsDir } = await startTestApp(cleanup, { HLS_MODE: 'plain' }, { listen: true });
    await writeFile(join(hlsDir, 'stream.m3u8'), PLAYLIST);
    const answer = await rawGet((app.server.address() as AddressInfo).port, path);
    expect(answer).toMatch(/^HTTP\/1\.1 404/);
    expect(answer).toContain('"code":"WEB_ERR_NOT_FOUND"');
    expect(answer).not.toContain('root:');
  });
});
