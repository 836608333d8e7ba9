/**
 * The door, as one table: every route the real app registers × {no token, wrong token, viewer,
 * operator, operator of another camera} → 401, 403 or through (whatever the route itself answers).
 * Over a real socket (fetch), since the event streams never end: the status line is all we read.
 */
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadServiceConfig } from '../src/config.js';
import { tempDir, useCleanup } from '../../../test/helpers/cleanup.js';
import { freeUdpPort } from '../../../test/helpers/ports.js';

const OPERATOR = 'op-0123456789abcdef';
const VIEWER = 'view-0123456789abcdef';
const OTHER_OPERATOR = 'op2-0123456789abcdef';
const WRONG = 'nope-0123456789abcdef';
const SESSION = '00000000-0000-4000-8000-000000000000';
const RECORDING = 'cam1~2026-12-05~23-55-34.123Z';

type Need = 'public' | 'watch' | 'operate' | 'metrics' | 'auth';
/** method, path, what it needs, whether it is about camera cam1 (the one OTHER_OPERATOR may not use). */
const ROUTES: readonly [string, string, Need, boolean][] = [
  ['GET', '/', 'public', false],
  ['GET', '/api/auth', 'auth', false],
  ['GET', '/api/stream', 'watch', true],
  ['POST', '/api/stream/start', 'operate', true],
  ['POST', '/api/stream/stop', 'operate', true],
  ['GET', '/api/stream/events', 'watch', true],
  ['POST', '/api/stream/whep', 'watch', true],
  ['DELETE', `/api/stream/whep/${SESSION}`, 'watch', true],
  ['PATCH', `/api/stream/whep/${SESSION}`, 'watch', true],
  ['OPTIONS', '/api/stream/whep', 'public', true],
  ['OPTIONS', `/api/stream/whep/${SESSION}`, 'public', true],
  ['GET', '/api/cameras', 'watch', false],
  ['GET', '/api/cameras/events', 'watch', false],
  ['GET', '/api/cameras/cam1', 'watch', true],
  ['POST', '/api/cameras/cam1/start', 'operate', true],
  ['POST', '/api/cameras/cam1/stop', 'operate', true],
  ['GET', '/api/cameras/cam1/events', 'watch', true],
  ['POST', '/api/cameras/cam1/whep', 'watch', true],
  ['DELETE', `/api/cameras/cam1/whep/${SESSION}`, 'watch', true],
  ['PATCH', `/api/cameras/cam1/whep/${SESSION}`, 'watch', true],
  ['OPTIONS', '/api/cameras/cam1/whep', 'public', true],
  ['OPTIONS', `/api/cameras/cam1/whep/${SESSION}`, 'public', true],
  ['GET', '/api/stream/snapshot.jpg', 'watch', true],
  ['GET', '/api/stream/stream.mjpg', 'watch', true],
  ['GET', '/api/stream/stream.ts', 'watch', true],
  ['GET', '/api/cameras/cam1/snapshot.jpg', 'watch', true],
  ['GET', '/api/cameras/cam1/stream.mjpg', 'watch', true],
  ['GET', '/api/cameras/cam1/stream.ts', 'watch', true],
  // Without ?camera=, the list is about every camera: not for a token limited to some.
  ['GET', '/api/recordings', 'watch', true],
  ['GET', '/api/recordings?camera=cam1', 'watch', true],
  ['GET', '/api/recordings?camera=cam2', 'watch', false],
  ['GET', `/api/recordings/${RECORDING}/playlist.m3u8`, 'watch', true],
  ['GET', `/api/recordings/${RECORDING}/seg-00000.m4s`, 'watch', true],
  ['GET', `/api/recordings/${RECORDING}.mp4`, 'watch', true],
  ['DELETE', `/api/recordings/${RECORDING}`, 'operate', true],
  ['GET', '/hls/stream.m3u8', 'watch', true],
  ['GET', '/hls/cam1/stream.m3u8', 'watch', true],
  ['HEAD', '/hls/cam1/stream.m3u8', 'watch', true],
  ['OPTIONS', '/hls/cam1/stream.m3u8', 'public', true],
  ['GET', '/metrics', 'metrics', false],
  // Routes nobody declared: the defaults (watch for GET, operate for the rest) hold.
  ['POST', '/api/cameras/cam1/snapshot', 'operate', true],
];

const WHO = ['none', 'wrong', 'viewer', 'operator', 'other operator'] as const;
type Who = (typeof WHO)[number];
const TOKEN: Record<Who, string | undefined> = {
  none: undefined,
  wrong: WRONG,
  viewer: VIEWER,
  operator: OPERATOR,
  'other operator': OTHER_OPERATOR,
};

/** 'through': the door let it in (the route answers whatever it answers, never 401/403). */
function expected(need: Need, aboutCam1: boolean, who: Who): 401 | 403 | 'through' {
  if (need === 'public' || need === 'metrics') return 'through'; // /metrics: loopback here
  if (need === 'auth') return who === 'wrong' ? 401 : 'through';
  if (who === 'none' || who === 'wrong') return 401;
  if (who === 'viewer') return need === 'operate' ? 403 : 'through';
  if (who === 'other operator' && aboutCam1) return 403;
  return 'through';
}

describe('the door: every route × every caller', () => {
  const cleanup = useCleanup('file');

  test('answers 401, 403 or lets through as the table says, with coded errors', async () => {
    const dir = await tempDir(cleanup, 'camstream-door-');
    const file = join(dir, 'tokens');
    await writeFile(
      file,
      `# who may do what\noperator:${OPERATOR}\nviewer:${VIEWER}\noperator:${OTHER_OPERATOR}:cam2\n`,
    );
    const config = loadServiceConfig({
      PORT: '0',
      EMBEDDED_BROKER_PORT: '0',
      HLS_DIR: dir,
      RECORD_DIR: join(dir, 'recordings'),
      UDP_LISTEN: `udp://127.0.0.1:${await freeUdpPort()}`,
      CAMERAS: `cam2=udp://127.0.0.1:${await freeUdpPort()}`,
      LOG_LEVEL: 'warn',
      AUTH_TOKENS_FILE: file,
      START_TIMEOUT_MS: '200',
    });
    const app = buildApp(config, {
      logger: false,
      rateLimits: {
        authFailures: { max: 10_000, windowMs: 60_000 },
        commands: { max: 10_000, windowMs: 60_000 },
      },
    });
    const registered: string[] = [];
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) registered.push(`${method} ${route.url}`);
    });
    cleanup.add(() => app.close());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    const failures: string[] = [];
    for (const [method, path, need, aboutCam1] of ROUTES) {
      for (const who of WHO) {
        const controller = new AbortController();
        const token = TOKEN[who];
        const response = await fetch(base + path, {
          method,
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
          signal: controller.signal,
        });
        const status = response.status;
        // HEAD answers carry the status and headers only.
        const body: { code?: string } =
          (status === 401 || status === 403) && method !== 'HEAD'
            ? ((await response.json()) as { code?: string })
            : { code: status === 401 ? 'WEB_ERR_UNAUTHORIZED' : 'WEB_ERR_FORBIDDEN' };
        controller.abort();
        const want = expected(need, aboutCam1, who);
        const ok =
          want === 'through'
            ? (status !== 401 && status !== 403 && status < 500) || status === 503
            : status === want &&
              body.code === (want === 401 ? 'WEB_ERR_UNAUTHORIZED' : 'WEB_ERR_FORBIDDEN') &&
              (want === 403 || response.headers.get('www-authenticate')?.startsWith('Bearer') === true);
        if (!ok) failures.push(`${method} ${path} as ${who}: ${status}, expected ${want}`);
      }
    }
    expect(failures).toEqual([]);

    // The table holds every route the app has (HEAD routes come with GET ones; the static client's
    // wildcard is '/' above).
    const tabled = new Set(ROUTES.map(([method, path]) => `${method} ${path}`));
    const patterns = registered.filter(
      (route) => (!route.startsWith('HEAD ') && !route.endsWith('/*')) || route.includes('/hls/'),
    );
    const untabled = patterns.filter(
      (route) =>
        ![...tabled].some((row) => matches(route, row)) &&
        route !== 'GET /api/auth' &&
        !route.startsWith('GET /*'),
    );
    expect(untabled).toEqual([]);
  }, 60_000);
});

/** `GET /api/cameras/:cameraId` matches the row `GET /api/cameras/cam1`. */
function matches(route: string, row: string): boolean {
  const pattern = new RegExp(
    `^${route
      .replace(/[.]/g, '\\.')
      .replace(/:[A-Za-z]+/g, '[^/]+')
      .replace(/\*/g, '.*')}$`,
  );
  return pattern.test(row);
}
