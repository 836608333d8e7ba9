/**
 * Security headers (door/headers.ts): /hls answers take helmet's headers recorded once, through
 * Fastify's reply; every other route runs helmet itself. Both must carry the same headers, whatever
 * the status; and a middleware that depends on the request is never recorded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, test } from 'vitest';
import { useCleanup } from '../../../test/helpers/cleanup.js';
import { recordHeaders, securityHeaders } from '../src/door/headers.js';
import { startTestApp } from './helpers/app.js';

/** What helmet sets with the service's options, lower-cased (as Node's client gives them). */
const SECURITY = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

const pick = (headers: Record<string, unknown>) =>
  Object.fromEntries(SECURITY.map((name) => [name, headers[name]]));

describe('security headers', () => {
  const cleanup = useCleanup('file');

  test('/hls answers (200s, 404s, 400s) carry the same security headers as the rest', async () => {
    const { app } = await startTestApp(cleanup, { HLS_MODE: 'll' });
    const elsewhere = await app.inject('/api/auth');
    expect(elsewhere.statusCode).toBe(200);
    const expected = pick(elsewhere.headers);
    expect(Object.values(expected).every((value) => typeof value === 'string' && value !== '')).toBe(true);
    expect(expected['cross-origin-resource-policy']).toBe('cross-origin');
    // The service's helmet is recorded (so /hls takes the recorded headers), and to the same values.
    expect(recordHeaders(securityHeaders())).toEqual(expected);
    for (const url of [
      '/hls/stream.m3u8', // no stream: 404
      '/hls/stream.m3u8?_HLS_part=1', // 400
      '/hls/nothing-here.txt',
      '/hls/cam1/stream.m3u8',
    ]) {
      const answer = await app.inject(url);
      expect(answer.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(pick(answer.headers), url).toEqual(expected);
      expect(answer.headers['access-control-allow-origin'], url).toBe('*');
    }
  });

  test('recordHeaders: a middleware that reads the request, fails or answers later is not recorded', () => {
    type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
    const fixed: Middleware = (_req, res, next) => {
      res.setHeader('X-One', '1');
      res.removeHeader('X-Powered-By');
      next();
    };
    expect(recordHeaders(fixed)).toEqual({ 'x-one': '1' });
    const readsRequest: Middleware = (req, res, next) => {
      res.setHeader('X-Path', String(req.url));
      next();
    };
    expect(recordHeaders(readsRequest)).toBeUndefined();
    expect(recordHeaders((_req, _res, next) => next(new Error('no')))).toBeUndefined();
    expect(recordHeaders((_req, _res, next) => void setTimeout(next, 1))).toBeUndefined();
    expect(recordHeaders((_req, res, next) => (res.removeHeader('Server'), next()))).toBeUndefined();
  });
});
