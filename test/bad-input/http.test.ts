/**
 * Bad HTTP input against the real service CLI while a stream is live (real Mosquitto, agent and
 * ffmpeg), in both HLS_MODEs: bodies, content types, methods and query strings of the wrong shape
 * over fetch(); malformed requests over a raw socket; paths that try to leave /hls, names the
 * segmenter never made, and links in HLS_DIR that lead to canaries outside it (table and
 * fast-check property), with inotifywait watching the canaries and their folders for any open or
 * read. Every answer is a 4xx with the JSON error body; afterwards the stream is as it was.
 */
import { stat, utimes } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { canaryLayout, placeTraps, STRANGERS, TRAPS, type CanaryLayout } from '../helpers/canary.js';
import { useCleanup } from '../helpers/cleanup.js';
import { recordFigures } from '../helpers/figures.js';
import { checkAsyncProperty } from '../helpers/fuzz.js';
import { watchAccess } from '../helpers/inotify.js';
import { expectSameProcesses, expectStreamPlays, processesOf, type Processes } from '../helpers/live.js';
import { jsonBody, rawExchange, rawGet, type RawResponse } from '../helpers/raw-http.js';
import { json, startSystem, type System } from '../helpers/system.js';
import { haveTools } from '../helpers/tools.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto');

function expectError(body: unknown, status: number, code: string): void {
  expect(body).toEqual({
    statusCode: status,
    code,
    error: STATUS_CODES[status],
    message: expect.any(String),
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const form = new FormData();
form.set('action', 'stop');

/** Requests to start and stop whose body, content type or query is not "none or {}". */
const BAD_REQUESTS: [string, string, RequestInit][] = [
  ['an array', '', { headers: JSON_TYPE, body: '[]' }],
  ['a number', '', { headers: JSON_TYPE, body: '1' }],
  ['a string', '', { headers: JSON_TYPE, body: '"start"' }],
  ['null', '', { headers: JSON_TYPE, body: 'null' }],
  ['an unknown key', '', { headers: JSON_TYPE, body: '{"camera":"cam2"}' }],
  ['__proto__', '', { headers: JSON_TYPE, body: '{"__proto__":{"admin":true}}' }],
  ['deep nesting', '', { headers: JSON_TYPE, body: `${'{"a":'.repeat(20_000)}{}${'}'.repeat(20_000)}` }],
  ['invalid JSON', '', { headers: JSON_TYPE, body: '{"oops"' }],
  ['two JSON values', '', { headers: JSON_TYPE, body: '{}{}' }],
  ['invalid UTF-8', '', { headers: JSON_TYPE, body: new Uint8Array([0x7b, 0xff, 0x7d]) }],
  [
    'UTF-16 as its charset says',
    '',
    { headers: { 'content-type': 'application/json; charset=utf-16' }, body: Buffer.from('{}', 'utf16le') },
  ],
  [
    'gzip, as content-encoding says',
    '',
    { headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: gzipSync('{}') },
  ],
  ['1 MiB and a byte', '', { headers: JSON_TYPE, body: `{}${' '.repeat(1024 * 1024 - 1)}` }],
  ['text/plain', '', { headers: { 'content-type': 'text/plain' }, body: '{}' }],
  [
    'form-urlencoded',
    '',
    { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=stop' },
  ],
  ['multipart', '', { body: form }],
  ['a body and no content type', '', { body: new Uint8Array(Buffer.from('{}')) }],
  ['an odd content type', '', { headers: { 'content-type': 'application/json-patch+json' }, body: '{}' }],
  ['an invalid content type', '', { headers: { 'content-type': 'json; ;;' }, body: '{}' }],
  ['a query string', '?camera=cam2', { headers: JSON_TYPE, body: '{}' }],
  ['a query string and no body', '?force=1', {}],
];

/** Methods the API does not have. */
const WRONG_METHODS: [string, string][] = [
  ['GET', '/api/stream/start'],
  ['GET', '/api/stream/stop'],
  ['POST', '/api/stream'],
  ['PUT', '/api/stream'],
  ['PUT', '/api/stream/start'],
  ['DELETE', '/api/stream'],
  ['DELETE', '/api/stream/stop'],
  ['PATCH', '/api/stream/stop'],
  ['OPTIONS', '/api/stream/start'],
  ['POST', '/hls/stream.m3u8'],
  ['PUT', '/hls/stream.m3u8'],
  ['DELETE', '/hls/stream.m3u8'],
];

/** Requests Node's HTTP parser refuses, written byte for byte. */
const MALFORMED: [string, number, string][] = [
  ['an invalid header character', 400, 'GET /api/stream HTTP/1.1\r\nHost: x\r\nX-Bad\x01: y\r\n\r\n'],
  ['a space in a header name', 400, 'GET /api/stream HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n'],
  ['a CR alone in a header value', 400, 'GET /api/stream HTTP/1.1\r\nHost: x\r\nX-A: b\rc\r\n\r\n'],
  ['a garbage request line', 400, 'HELLO WORLD\r\n\r\n'],
  ['binary garbage', 400, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'],
  ['a space in the path', 400, 'GET /api/str eam HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['an unknown HTTP version', 400, 'GET /api/stream HTTP/3.7\r\nHost: x\r\n\r\n'],
  ['a method with symbols', 400, 'G@T /api/stream HTTP/1.1\r\nHost: x\r\n\r\n'],
  [
    'a non-numeric Content-Length',
    400,
    'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 2x\r\n\r\n{}',
  ],
  [
    'a negative Content-Length',
    400,
    'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Length: -2\r\n\r\n{}',
  ],
  [
    'two Content-Lengths that differ',
    400,
    'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
  ],
  [
    'Content-Length and chunked',
    400,
    'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  ],
  [
    'chunked twice',
    400,
    'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n',
  ],
  [
    'a bad chunk size',
    400,
    'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
  ],
  [
    'a Content-Length past 2^64',
    400,
    'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
  ],
  ['a folded header', 400, 'GET /api/stream HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n'],
  ['a NUL in the path', 400, 'GET /hls/stream.m3u8\x00.ts HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['headers of 20 KB', 431, `GET /api/stream HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
];

/** Paths under /hls that try to leave it, or name what the segmenter did not make. */
function hlsTable(layout: CanaryLayout): string[] {
  const canary = layout.canaries[1]!;
  return [
    '/hls/../canary.txt',
    '/hls/../../canary.txt',
    '/hls/%2e%2e/canary.txt',
    '/hls/%2e%2e%2fcanary.txt',
    '/hls/%2E%2E/%2E%2E/canary.txt',
    '/hls/%252e%252e/canary.txt',
    '/hls/..%5ccanary.txt',
    '/hls/..\\..\\canary.txt',
    '/hls/%c0%ae%c0%ae/canary.txt',
    '/hls/.%2e/canary.txt',
    '/hls/stream.m3u8%00.ts',
    '/hls/stream.m3u8;.ts',
    '/hls/stream.m3u8/',
    '/hls//etc/passwd',
    `/hls/${canary}`,
    `/hls/${encodeURIComponent(canary)}`,
    `/hls/%2f${canary.slice(1)}`,
    '/hls/file:%2f%2f%2fetc%2fpasswd',
    `/hls/${'a'.repeat(5000)}.ts`,
    '/hls/%E2%80%AEst.m3u8',
    '/hls/ＳＴＲＥＡＭ.m3u8',
    '/hls/sub/stream.m3u8',
    '/hls/./stream.m3u8.tmp',
    ...Object.values(TRAPS).map((name) => `/hls/${name}`),
    ...STRANGERS.map((name) => `/hls/${encodeURIComponent(name)}`),
  ];
}

function pathArbitrary(layout: CanaryLayout): fc.Arbitrary<string> {
  const piece = fc.oneof(
    fc.constantFrom(
      '..',
      '.',
      '',
      '%2e%2e',
      '%2E%2e',
      '.%2e',
      '%252e%252e',
      '..%2f',
      '..%5c',
      '..\\',
      '....',
    ),
    fc.constantFrom('%c0%ae%c0%ae', '%ef%bc%8e%ef%bc%8e', '%00', '%2f', '%5c', ';', '~', '%20', '%', '%zz'),
    fc.constantFrom('canary.txt', 'inner', 'hls', 'etc', 'passwd', 'stream.m3u8', 'sub', 'stream.m3u8;x'),
    fc.constantFrom(...Object.values(TRAPS), ...STRANGERS),
    fc.string({ unit: fc.constantFrom(...'./\\%2eEfFcC05a;:?#&=~'.split('')), maxLength: 10 }),
  );
  return fc
    .tuple(
      fc.constantFrom('/hls/', '/hls//', '/hls/./', '/hls%2f', '//hls/'),
      fc.oneof(
        fc.array(piece, { minLength: 1, maxLength: 6 }).map((pieces) => pieces.join('/')),
        fc.constantFrom(...layout.canaries, ...layout.canaries.map((canary) => encodeURIComponent(canary))),
      ),
      fc.constantFrom('', '?x=1', '#x', '?../../canary.txt', '%00'),
    )
    .map(([prefix, rest, suffix]) => `${prefix}${rest}${suffix}`);
}

/** What the segmenter and the packager name their files (names.ts), and nothing else. */
const OURS = /^(stream\.m3u8|[0-9a-z]{8,12}-[0-9a-f]{8}-(\d{5,10}\.ts|\d{5,10}(\.\d{1,4})?\.m4s|init\.mp4))$/;

/** A 404 or 400 JSON error; or, for a name the segmenter made, its file. Never a canary. */
function judgeHlsAnswer(layout: CanaryLayout, path: string, response: RawResponse | undefined): void {
  expect(response, path).toBeDefined();
  expect(response!.body.toString('latin1'), path).not.toContain(layout.secret);
  if (response!.status === 200) {
    const name = decodeURIComponent(path.split(/[?#]/)[0]!.slice('/hls/'.length));
    expect(name, path).toMatch(OURS);
    expect(Object.values<string>(TRAPS), path).not.toContain(name);
    return;
  }
  expect([400, 404], path).toContain(response!.status);
  expectError(
    jsonBody(response),
    response!.status,
    response!.status === 404 ? 'WEB_ERR_NOT_FOUND' : 'WEB_ERR_BAD_REQUEST',
  );
}

describe.runIf(ready).each(['ll', 'plain'] as const)('bad HTTP input while live, HLS_MODE=%s', (mode) => {
  const shared = useCleanup('file');
  let system: System;
  let layout: CanaryLayout;
  let port: number;
  let before: Processes;
  const tried = { bodies: 0, methods: 0, malformed: 0, hlsTable: 0, hlsFuzzed: 0 };

  beforeAll(async () => {
    layout = await canaryLayout(shared);
    system = await startSystem(shared, {
      broker: 'mosquitto',
      webEnv: { HLS_MODE: mode, HLS_DIR: layout.hlsDir },
    });
    port = Number(new URL(system.baseUrl).port);
    expect(await system.api('/api/stream/start', json())).toMatchObject({
      status: 200,
      body: { state: 'live' },
    });
    await placeTraps(layout);
    before = await processesOf(system);
  });

  test('start and stop with bodies, content types and query strings of the wrong shape: 400 JSON', async () => {
    for (const action of ['start', 'stop']) {
      for (const [what, query, init] of BAD_REQUESTS) {
        const answer = await system.api(`/api/stream/${action}${query}`, { method: 'POST', ...init });
        expect(answer.status, `${action}: ${what}`).toBe(400);
        expectError(answer.body, 400, 'WEB_ERR_BAD_REQUEST');
        tried.bodies += 1;
      }
    }
    expect((await system.api('/api/stream')).body).toMatchObject({ state: 'live' });
  });

  test('methods the API does not have: 404 JSON', async () => {
    for (const [method, path] of WRONG_METHODS) {
      const answer = await system.api(path, { method });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expectError(answer.body, 404, 'WEB_ERR_NOT_FOUND');
      tried.methods += 1;
    }
  });

  test.each(MALFORMED)(
    'a raw request with %s: %i JSON, the connection closed',
    async (_what, status, request) => {
      const { response, closed } = await rawExchange(port, request);
      expect(response?.status).toBe(status);
      expectError(jsonBody(response), status, 'WEB_ERR_BAD_REQUEST');
      expect(closed).toBe(true);
      tried.malformed += 1;
    },
  );

  test('raw requests that are cut short, pipelined after a good one, or CONNECT: no crash, no second answer', async () => {
    // A request cut short (the client went away): nothing to answer.
    const cut = await rawExchange(
      port,
      'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{',
      {
        endAfterWrite: true,
      },
    );
    expect(cut.closed).toBe(true);
    // A good request answered, then garbage on the same connection: the JSON error follows.
    const pipelined = await rawExchange(port, [
      'GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n',
      'GARBAGE\r\n\r\n',
    ]);
    const text = pipelined.raw.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toContain('"code":"WEB_ERR_BAD_REQUEST"');
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(2);
    // CONNECT (a proxy request): Node closes the connection, as no 'connect' listener is there.
    const connect = await rawExchange(port, 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n');
    expect(connect.closed).toBe(true);
    tried.malformed += 3;
    expect((await system.api('/api/stream')).body).toMatchObject({ state: 'live' });
  });

  // Node's http server would answer an HTTP/1.1 request without Host itself (requireHostHeader),
  // with an empty 400, before Fastify or the client error handler saw it: app.ts turns that off and
  // answers from an onRequest hook.
  test('a request without Host gets the JSON error', async () => {
    const { response } = await rawExchange(port, 'GET /api/stream HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(response?.status).toBe(400);
    expectError(jsonBody(response), 400, 'WEB_ERR_BAD_REQUEST');
  });

  test('paths out of /hls, odd names, links out of HLS_DIR: 404 JSON, never a canary, never opened', async () => {
    // inotifywait watches the canaries and their folders; a read through any path shows there.
    const observe = haveTools('inotifywait');
    const watch = observe
      ? await watchAccess(shared, [layout.root, layout.inner, ...layout.canaries])
      : undefined;
    const old = new Date('2001-01-01T00:00:00Z');
    const resetAtimes = () => Promise.all(layout.canaries.map((canary) => utimes(canary, old, new Date())));
    await resetAtimes();
    // The observers see a read through the links in HLS_DIR (with relatime, a read moves an atime
    // that is older than the mtime).
    const { readFile } = await import('node:fs/promises');
    await readFile(join(layout.hlsDir, TRAPS.absoluteSymlink)); // root/canary.txt
    await readFile(join(layout.hlsDir, TRAPS.hardLink)); // inner/canary.txt
    const atimeMoves = (await stat(layout.canaries[0]!)).atimeMs !== old.getTime();
    if (watch) {
      await waitForEvents(watch, layout.canaries);
      watch.clear();
    }
    await resetAtimes();

    for (const path of hlsTable(layout)) {
      judgeHlsAnswer(layout, path, (await rawGet(port, path)).response);
      tried.hlsTable += 1;
    }
    const { runs } = await checkAsyncProperty(
      fc.asyncProperty(pathArbitrary(layout), async (path) => {
        judgeHlsAnswer(layout, path, (await rawGet(port, path)).response);
      }),
      300,
    );
    tried.hlsFuzzed += runs;

    await new Promise((resolve) => setTimeout(resolve, 200));
    if (watch)
      expect(watch.events.filter((event) => layout.canaries.some((c) => event.startsWith(c)))).toEqual([]);
    if (atimeMoves) {
      for (const canary of layout.canaries) expect((await stat(canary)).atime).toEqual(old);
    }
    recordFigures({ mode, inotify: observe, atime: atimeMoves });
  });

  test('afterwards: the same processes and segmenter, still live, new parts listed, ffmpeg decodes it', async () => {
    expectSameProcesses(system, before);
    expect(await system.segmenterPids()).toEqual(before.segmenters);
    await expectStreamPlays(system);
    recordFigures({ mode, ...tried, total: Object.values(tried).reduce((sum, n) => sum + n, 0) });
  });
});

async function waitForEvents(watch: { events: readonly string[] }, paths: readonly string[]): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!paths.every((path) => watch.events.some((event) => event.startsWith(path)))) {
    if (Date.now() > deadline)
      throw new Error(`inotifywait saw no read of ${paths.join(', ')}: ${watch.events.join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
