/**
 * Bad HTTP input, fuzzed in process (fast-check): bodies, content types, query strings and methods on
 * the API through app.inject(); names under /hls (both HLS_MODEs) and malformed requests over a raw
 * socket to the app listening on loopback, since inject() would clean the URL up first. Every answer
 * is the protocol's JSON error; no answer carries a byte of the canaries placed outside HLS_DIR.
 */
import { writeFile } from 'node:fs/promises';
import { METHODS, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { clientErrorBody } from '../src/client-errors.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import {
  canaryLayout,
  FOREIGN_STREAM_ID,
  placeTraps,
  STRANGERS,
  TRAPS,
  type CanaryLayout,
} from '../../../test/helpers/canary.js';
import { useCleanup } from '../../../test/helpers/cleanup.js';
import { checkAsyncProperty } from '../../../test/helpers/fuzz.js';
import { jsonBody, rawExchange, rawGet } from '../../../test/helpers/raw-http.js';

const BODY_LIMIT = 64 * 1024;

function expectError(body: unknown, status: number, code: string): void {
  expect(body).toEqual({
    statusCode: status,
    code,
    error: STATUS_CODES[status],
    message: expect.any(String),
  });
}

/** The contract for start and stop: no body (or an empty one), or `{}` as JSON. */
function isAcceptedBody(contentType: string | undefined, body: string | Buffer | undefined): boolean {
  const size = body === undefined ? 0 : Buffer.byteLength(body);
  if (size > BODY_LIMIT) return false;
  const json = contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json';
  if (size === 0) return contentType === undefined || json;
  if (!json) return false;
  // RFC 8259 §8.1: a parser may ignore a byte order mark.
  const text = (typeof body === 'string' ? body : new TextDecoder().decode(body)).replace(/^\ufeff/, '');
  try {
    const value: unknown = JSON.parse(text);
    return (
      typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
    );
  } catch {
    return false;
  }
}

const contentTypes = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/json;',
    'application/json; charset=latin1',
    'application/json; charset=utf-16',
    'application/json; charset="utf-8"; q=1',
  ),
  fc.constantFrom(
    'text/plain',
    'text/plain; charset=utf-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'application/json-patch+json',
    'text/json',
    'application/jsonx',
    'application/xml',
    'application/octet-stream',
    '*/*',
    '',
    'a b c',
    ';;;',
    'json',
  ),
  fc.string({ maxLength: 30 }),
);

const bodies: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  fc.constantFrom(
    undefined,
    '',
    '{}',
    ' {}\n',
    '\ufeff{}',
    'null',
    '[]',
    '0',
    '"{}"',
    '{}{}',
    '{',
    '}',
    '{"":0}',
  ),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? ''),
  // Unknown keys, and the keys a prototype-pollution attempt would use.
  fc
    .dictionary(
      fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'camera')),
      fc.jsonValue({ maxDepth: 2 }),
      { minKeys: 1, maxKeys: 3 },
    )
    .map((value) => JSON.stringify(value)),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => `${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}`),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.uint8Array({ maxLength: 100 }).map((bytes) => Buffer.from(bytes)),
  fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.nat()).map(([value, cut]) => {
    const text = JSON.stringify(value) ?? '';
    return text.slice(0, cut % (text.length + 1));
  }),
);

describe('the stream API against bodies, content types, query strings and methods of the wrong shape', () => {
  const cleanup = useCleanup('file');
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startTestApp(cleanup);
  });

  test('start and stop: anything but no body or {} is a 400 with a coded JSON error; nothing changes', async () => {
    const { app } = testApp;
    await checkAsyncProperty(
      fc.asyncProperty(
        fc.constantFrom('start', 'stop'),
        contentTypes,
        bodies,
        async (action, contentType, body) => {
          const answer = await app.inject({
            method: 'POST',
            url: `/api/stream/${action}`,
            headers: contentType === undefined ? {} : { 'content-type': contentType },
            ...(body !== undefined && { payload: body }),
          });
          if (!isAcceptedBody(contentType, body)) {
            expect(answer.statusCode).toBe(400);
            expectError(answer.json(), 400, 'WEB_ERR_BAD_REQUEST');
          } else if (action === 'start') {
            // Accepted; the camera was never heard from.
            expectError(answer.json(), 503, 'WEB_ERR_CAMERA_OFFLINE');
          } else {
            expect(answer.json()).toEqual({ state: 'idle' });
          }
          expect(answer.headers['content-type']).toMatch(/^application\/json/);
        },
      ),
      600,
    );
    expect((await app.inject('/api/stream')).json()).toMatchObject({ state: 'idle', camera: null });
    expect(await testApp.segmenterPids()).toEqual([]);
  });

  test('bodies over the body limit (64 KiB) are a 400, even when they hold only {}', async () => {
    const { app } = testApp;
    for (const size of [BODY_LIMIT + 1, 5 * BODY_LIMIT]) {
      for (const payload of [`{}${' '.repeat(size - 2)}`, JSON.stringify({ pad: 'x'.repeat(size) })]) {
        const answer = await app.inject({
          method: 'POST',
          url: '/api/stream/start',
          headers: { 'content-type': 'application/json' },
          payload,
        });
        expect(answer.statusCode, `${payload.length} bytes`).toBe(400);
        expectError(answer.json(), 400, 'WEB_ERR_BAD_REQUEST');
        expect(answer.json().message).toMatch(/too large/);
      }
    }
  });

  test('a query string on start or stop is a 400 (it would be ignored); GET /api/stream ignores one', async () => {
    const { app } = testApp;
    const queries = fc
      .dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), fc.string({ unit: 'binary', maxLength: 12 }), {
        minKeys: 1,
        maxKeys: 3,
      })
      .map((parameters) => new URLSearchParams(parameters).toString());
    await checkAsyncProperty(
      fc.asyncProperty(fc.constantFrom('start', 'stop'), queries, async (action, query) => {
        const answer = await app.inject({ method: 'POST', url: `/api/stream/${action}?${query}` });
        expect(answer.statusCode).toBe(400);
        expectError(answer.json(), 400, 'WEB_ERR_BAD_REQUEST');
        expect(answer.json().message).toMatch(/querystring/);
        const info = await app.inject(`/api/stream?${query}`);
        expect(info.statusCode).toBe(200);
        expect(info.json()).toMatchObject({ state: 'idle' });
      }),
      200,
    );
    // An empty query string is no parameter.
    expect((await app.inject({ method: 'POST', url: '/api/stream/stop?' })).json()).toEqual({
      state: 'idle',
    });
  });

  test('every other method on the API paths: 404 JSON (400 for a body method without a content type)', async () => {
    const { app } = testApp;
    const allowed = new Set([
      'GET /api/stream',
      'HEAD /api/stream',
      'POST /api/stream/start',
      'POST /api/stream/stop',
    ]);
    const statuses: number[] = [];
    for (const method of METHODS.filter((name) => name !== 'CONNECT')) {
      for (const url of ['/api/stream', '/api/stream/start', '/api/stream/stop', '/api/stream/events']) {
        if (allowed.has(`${method} ${url}`) || (url.endsWith('/events') && ['GET', 'HEAD'].includes(method)))
          continue;
        const answer = await app.inject({ method: method as 'GET', url });
        statuses.push(answer.statusCode);
        // Fastify refuses QUERY without a Content-Type before it looks for a route.
        const status = method === 'QUERY' ? 400 : 404;
        expect(answer.statusCode, `${method} ${url}`).toBe(status);
        if (method !== 'HEAD') {
          expectError(answer.json(), status, status === 404 ? 'WEB_ERR_NOT_FOUND' : 'WEB_ERR_BAD_REQUEST');
        }
      }
    }
    expect(statuses.length).toBeGreaterThan(100);
    expect((await app.inject('/api/stream')).json()).toMatchObject({ state: 'idle' });
  });

  test('paths the static files refuse (a double slash, an overlong segment) are a 404 like any missing one', async () => {
    const { app } = testApp;
    for (const url of ['//api/stream', '//etc/passwd', `/${'a'.repeat(300)}`, `/x/${'b'.repeat(300)}/y`]) {
      const answer = await app.inject(url);
      expect(answer.statusCode, url).toBe(404);
      expectError(answer.json(), 404, 'WEB_ERR_NOT_FOUND');
    }
  });
});

const SEGMENT = `${FOREIGN_STREAM_ID}-00000.ts`;
const PLAYLIST = `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n${SEGMENT}\n`;

async function furnish(layout: CanaryLayout): Promise<void> {
  await writeFile(join(layout.hlsDir, 'stream.m3u8'), PLAYLIST);
  await writeFile(join(layout.hlsDir, SEGMENT), Buffer.from([0x47, 1, 2, 3]));
  await placeTraps(layout);
}

/** Path pieces that try to leave /hls, or to name something else in it. */
function pathArbitrary(layout: CanaryLayout): fc.Arbitrary<string> {
  const piece = fc.oneof(
    fc.constantFrom(
      '..',
      '.',
      '',
      '%2e%2e',
      '%2E%2E',
      '.%2e',
      '%2e.',
      '%252e%252e',
      '..%2f',
      '..%2F',
      '..%5c',
      '..\\',
    ),
    fc.constantFrom(
      '%c0%ae%c0%ae',
      '%ef%bc%8e%ef%bc%8e',
      '....',
      '%00',
      '%2f',
      '%5c',
      ';',
      '~',
      '%20',
      '%',
      '%zz',
    ),
    fc.constantFrom(
      'canary.txt',
      'inner',
      'hls',
      'etc',
      'passwd',
      'stream.m3u8',
      SEGMENT,
      'sub',
      'stream.m3u8;x',
    ),
    fc.constantFrom(...Object.values(TRAPS), ...STRANGERS),
    fc.constantFrom('a'.repeat(300), 'é', 'ß.ts', '\u202e', 'ＮＵＬ'),
    fc.string({ unit: fc.constantFrom(...'./\\%2eEfFcC05a;:?#&=~ \t'.split('')), maxLength: 10 }),
  );
  const absolute = fc.constantFrom(
    ...layout.canaries,
    ...layout.canaries.map((canary) => encodeURIComponent(canary)),
    `/${layout.hlsDir}/../canary.txt`,
    '/etc/passwd',
    'file:///etc/passwd',
    'C:\\Windows\\win.ini',
  );
  return fc
    .tuple(
      fc.constantFrom('/hls/', '/hls//', '/hls', '/hls%2f', '//hls/', '/HLS/', '/hls/./'),
      fc.oneof(
        fc.array(piece, { minLength: 1, maxLength: 6 }).map((pieces) => pieces.join('/')),
        absolute,
      ),
      fc.constantFrom('', '?x=1', '?_HLS_msn=1', '#x', '?../../canary.txt', '%00.ts'),
    )
    .map(([prefix, rest, suffix]) => `${prefix}${rest}${suffix}`);
}

/** The name Fastify's router hands the /hls route for `path`, if it reaches it. */
function routedName(path: string): string | undefined {
  const cut = path.split(/[?#]/)[0]!;
  if (!cut.startsWith('/hls/')) return undefined;
  try {
    return decodeURIComponent(cut.slice('/hls/'.length));
  } catch {
    return undefined;
  }
}

describe.each(['plain', 'll'] as const)('/hls with HLS_MODE=%s, fuzzed over a raw socket', (mode) => {
  const cleanup = useCleanup('file');
  let port: number;
  let layout: CanaryLayout;
  beforeAll(async () => {
    layout = await canaryLayout(cleanup);
    const { app } = await startTestApp(cleanup, { HLS_MODE: mode, HLS_DIR: layout.hlsDir }, { listen: true });
    port = (app.server.address() as AddressInfo).port;
    // After startup: the service clears the names it owns when it starts.
    await furnish(layout);
  });

  test('what the segmenter did not make, and links that lead out of HLS_DIR: 404 JSON', async () => {
    for (const name of [...Object.values(TRAPS), ...STRANGERS, 'sub/stream.m3u8']) {
      const { response } = await rawGet(port, `/hls/${name}`);
      expect(response?.status, name).toBe(404);
      expectError(jsonBody(response), 404, 'WEB_ERR_NOT_FOUND');
      expect(response!.body.toString('latin1')).not.toContain(layout.secret);
    }
    // The segmenter's own files are served (plain), or nothing is (LL: from memory, no stream).
    const playlist = await rawGet(port, '/hls/stream.m3u8');
    expect(playlist.response?.status).toBe(mode === 'plain' ? 200 : 404);
  });

  test('generated paths: a 404 or a 400, always JSON, never a canary; only our files are served', async () => {
    await checkAsyncProperty(
      fc.asyncProperty(pathArbitrary(layout), async (path) => {
        const { response } = await rawGet(port, path);
        expect(response, path).toBeDefined();
        const text = response!.body.toString('latin1');
        expect(text, path).not.toContain(layout.secret);
        const name = routedName(path);
        if (mode === 'plain' && response!.status === 200) {
          expect([SEGMENT, 'stream.m3u8'], path).toContain(name);
          return;
        }
        expect([400, 404], path).toContain(response!.status);
        const body = jsonBody(response);
        expectError(
          body,
          response!.status,
          response!.status === 404 ? 'WEB_ERR_NOT_FOUND' : 'WEB_ERR_BAD_REQUEST',
        );
      }),
      500,
    );
  });
});

describe('requests Node’s HTTP parser refuses: the JSON error body, WEB_ERR_BAD_REQUEST', () => {
  const cleanup = useCleanup('file');
  let port: number;
  beforeAll(async () => {
    const { app } = await startTestApp(cleanup, {}, { listen: true });
    port = (app.server.address() as AddressInfo).port;
  });

  test.each([
    ['an invalid header character', 400, 'GET /api/stream HTTP/1.1\r\nHost: x\r\nX-Bad\x01: y\r\n\r\n'],
    ['a space in a header name', 400, 'GET /api/stream HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n'],
    ['a garbage request line', 400, 'HELLO\r\n\r\n'],
    ['binary garbage', 400, '\x00\x01\x02\xff\xfe\r\n\r\n'],
    [
      'a non-numeric Content-Length',
      400,
      'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
    ],
    [
      'two Content-Lengths',
      400,
      'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
    ],
    [
      'Content-Length and Transfer-Encoding',
      400,
      'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'a bad chunk size',
      400,
      'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    ],
    [
      'an overflowing Content-Length',
      400,
      'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
    ],
    [
      'headers over 16 KiB',
      431,
      `GET /api/stream HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ],
    ['a folded header', 400, 'GET /api/stream HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n'],
    ['an unknown HTTP version', 400, 'GET /api/stream HTTP/9.9\r\nHost: x\r\n\r\n'],
    ['a NUL in the path', 400, 'GET /hls/stream.m3u8\x00 HTTP/1.1\r\nHost: x\r\n\r\n'],
  ])('%s: %i JSON', async (_name, status, request) => {
    const { response, closed } = await rawExchange(port, request);
    expect(response?.status).toBe(status);
    expect(response?.headers['content-type']).toMatch(/^application\/json/);
    expectError(jsonBody(response), status, 'WEB_ERR_BAD_REQUEST');
    expect(closed).toBe(true);
  });

  test('a parse error after a request was answered does not add a second answer', async () => {
    // Transfer-Encoding without chunked: Node dispatches the request, then fails on the body.
    const { raw, response } = await rawExchange(
      port,
      'POST /api/stream/stop HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n{}',
    );
    expect(response?.status).toBe(400);
    expect(raw.toString('latin1').match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });

  test('the body names the parser’s reason; statuses follow Node’s', () => {
    const error = Object.assign(new Error('Parse Error: Invalid header value char'), {
      code: 'HPE_INVALID_HEADER_TOKEN',
      reason: 'Invalid header value char',
    });
    expect(clientErrorBody(error)).toEqual({
      statusCode: 400,
      code: 'WEB_ERR_BAD_REQUEST',
      error: 'Bad Request',
      message: 'bad request: malformed HTTP request (HPE_INVALID_HEADER_TOKEN: Invalid header value char)',
    });
    expect(
      clientErrorBody(Object.assign(new Error('x'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' })),
    ).toMatchObject({
      statusCode: 408,
      error: 'Request Timeout',
    });
  });
});
