/**
 * The rate limits trigger and recover: starts and stops per address (@fastify/rate-limit) and failed
 * authentications per address (door/failures.ts). The windows are shortened through buildApp's
 * rateLimits (one second), so recovery is waited for, not slept for a minute.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { useCleanup } from '../../../test/helpers/cleanup.js';
import { doorApp, OPERATOR, VIEWER } from './helpers/door-app.js';

const WINDOW_MS = 1000;

interface Answer {
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
}

describe('rate limits', () => {
  const cleanup = useCleanup('file');
  const app = doorApp(
    cleanup,
    { START_TIMEOUT_MS: '200' },
    {
      rateLimits: {
        commands: { max: 3, windowMs: WINDOW_MS },
        authFailures: { max: 4, windowMs: WINDOW_MS },
      },
    },
  );

  /** Each test its own client address, so their windows do not meet. */
  const call = async (
    address: string,
    method: 'GET' | 'POST',
    url: string,
    token?: string,
  ): Promise<Answer> => {
    const response = await (
      await app()
    ).app.inject({
      method,
      url,
      remoteAddress: address,
      headers: {
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
        ...(method === 'POST' && { 'content-type': 'application/json' }),
      },
      ...(method === 'POST' && { payload: '{}' }),
    });
    const body = response.body.startsWith('{') ? response.json<{ code?: string }>() : {};
    const retryAfter = response.headers['retry-after'];
    return {
      status: response.statusCode,
      code: body.code,
      retryAfter: retryAfter === undefined ? undefined : String(retryAfter),
    };
  };

  /** Waits out the window: the first moment the call is answered without 429 (bounded). */
  async function untilNotLimited(probe: () => Promise<Answer>): Promise<Answer> {
    const deadline = Date.now() + WINDOW_MS * 5;
    for (;;) {
      const answer = await probe();
      if (answer.status !== 429 || Date.now() > deadline) return answer;
      await sleep(100);
    }
  }

  test('start and stop: past the limit 429 WEB_ERR_RATE_LIMITED with Retry-After, then again', async () => {
    const address = '192.0.2.10';
    const start = () => call(address, 'POST', '/api/cameras/cam2/start', OPERATOR);
    const stop = () => call(address, 'POST', '/api/cameras/cam2/stop', OPERATOR);
    // Three starts in the window are answered by the route (the camera is offline: not 429).
    for (let i = 0; i < 3; i++) expect((await start()).status).not.toBe(429);
    const limited = await start();
    expect(limited).toMatchObject({ status: 429, code: 'WEB_ERR_RATE_LIMITED' });
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(Math.ceil(WINDOW_MS / 1000));
    expect(limited.code && (await start()).status).toBe(429);
    // Each route counts on its own (per address and route): stop is still answered, three times.
    for (let i = 0; i < 3; i++) expect((await stop()).status).not.toBe(429);
    expect((await stop()).status).toBe(429);
    // Another address is not limited by this one's commands.
    expect((await call('192.0.2.11', 'POST', '/api/cameras/cam2/start', OPERATOR)).status).not.toBe(429);
    // Watching is not a command: never counted.
    expect((await call(address, 'GET', '/api/cameras/cam2', OPERATOR)).status).toBe(200);
    // After the window, commands are answered again.
    const after = await untilNotLimited(start);
    expect(after.status).not.toBe(429);
  }, 20_000);

  test('refused commands do not count: a viewer’s 403s never reach the limit', async () => {
    const address = '192.0.2.20';
    for (let i = 0; i < 6; i++) {
      const answer = await call(address, 'POST', '/api/cameras/cam2/start', VIEWER);
      expect(answer).toMatchObject({ status: 403, code: 'WEB_ERR_FORBIDDEN' });
    }
  });

  test('failed authentications: past the limit every request from the address is 429, then it recovers', async () => {
    const address = '192.0.2.30';
    const wrong = 'wrong-0123456789abcdef';
    for (let i = 0; i < 4; i++) {
      expect(await call(address, 'GET', '/api/cameras', wrong)).toMatchObject({
        status: 401,
        code: 'WEB_ERR_UNAUTHORIZED',
      });
    }
    // Now even the right token is refused, before it is looked at; /api/auth and /hls as well.
    for (const [url, token] of [
      ['/api/cameras', OPERATOR],
      ['/api/auth', OPERATOR],
      ['/hls/cam2/stream.m3u8?token=1.x', undefined],
    ] as const) {
      const limited = await call(address, 'GET', url, token);
      expect(limited, url).toMatchObject({ status: 429, code: 'WEB_ERR_RATE_LIMITED' });
      expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // Other addresses go on as before.
    expect((await call('192.0.2.31', 'GET', '/api/cameras', OPERATOR)).status).toBe(200);
    // The window ends: the right token works again, and the count starts afresh.
    const after = await untilNotLimited(() => call(address, 'GET', '/api/cameras', OPERATOR));
    expect(after.status).toBe(200);
    expect((await call(address, 'GET', '/api/cameras', wrong)).status).toBe(401);
    expect((await call(address, 'GET', '/api/cameras', OPERATOR)).status).toBe(200);
  }, 20_000);

  test('requests without any token count as failures too (no free guessing of the header)', async () => {
    const address = '192.0.2.40';
    for (let i = 0; i < 4; i++) expect((await call(address, 'GET', '/api/cameras')).status).toBe(401);
    expect((await call(address, 'GET', '/api/cameras', OPERATOR)).status).toBe(429);
  });
});
