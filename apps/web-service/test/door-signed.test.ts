/**
 * Signed stream URLs over HTTP: a token that expired, one made for another camera, one whose MAC
 * was altered, one without a MAC at all, and one signed with another secret are each refused with
 * WEB_ERR_UNAUTHORIZED; a good one is let in. The expired token is made by a UrlSigner whose clock
 * was set back (the service's own clock is real: no sleep of SIGNED_URL_TTL_S).
 */
import { describe, expect, test } from 'vitest';
import { UrlSigner } from '../src/door/signed.js';
import { useCleanup } from '../../../test/helpers/cleanup.js';
import { doorApp, OPERATOR } from './helpers/door-app.js';

const SECRET = 'signed-test-secret-0123456789abcdef0123456789';
const TTL_S = 60;

describe('signed stream URLs', () => {
  const cleanup = useCleanup('file');
  const app = doorApp(cleanup, { AUTH_SECRET: SECRET, SIGNED_URL_TTL_S: String(TTL_S) });

  const get = async (path: string) => {
    const response = await (await app()).app.inject({ method: 'GET', url: path });
    return { status: response.statusCode, body: response.json<{ code?: string; message?: string }>() };
  };

  const signer = (nowMs = Date.now(), secret = SECRET) => new UrlSigner(secret, TTL_S, () => nowMs);
  const playlist = (camera: string, token: string) =>
    `/hls/${camera}/stream.m3u8?token=${encodeURIComponent(token)}`;

  test('a good token for the camera is let in (the route answers; no live stream: 404)', async () => {
    const { status, body } = await get(playlist('cam2', signer().sign('cam2')));
    expect(status).toBe(404);
    expect(body.code).toBe('WEB_ERR_NOT_FOUND');
  });

  const refusals: [string, () => string][] = [
    // Signed TTL_S + 1 seconds ago: expired one second ago.
    ['expired', () => playlist('cam2', signer(Date.now() - (TTL_S + 1) * 1000).sign('cam2'))],
    ['for another camera', () => playlist('cam2', signer().sign('cam1'))],
    [
      'for another camera, on the default camera’s short path',
      () => `/hls/stream.m3u8?token=${signer().sign('cam2')}`,
    ],
    [
      'with an altered MAC',
      () => {
        const [expiry, mac] = signer().sign('cam2').split('.') as [string, string];
        const flipped = (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1);
        return playlist('cam2', `${expiry}.${flipped}`);
      },
    ],
    [
      'with a later expiry than it was signed for',
      () => {
        const [expiry, mac] = signer().sign('cam2').split('.') as [string, string];
        return playlist('cam2', `${Number(expiry) + 3600}.${mac}`);
      },
    ],
    [
      'whose MAC is spelled another way (the unused low bits of its last base64url character)',
      () => {
        const [expiry, mac] = signer().sign('cam2').split('.') as [string, string];
        // 32 bytes take 43 characters: the last one's low 4 bits are padding, ignored by decoders.
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = alphabet.indexOf(mac.at(-1)!);
        return playlist('cam2', `${expiry}.${mac.slice(0, -1)}${alphabet[last ^ 1]}`);
      },
    ],
    ['without a MAC', () => playlist('cam2', String(Math.floor(Date.now() / 1000) + 60))],
    ['signed with another secret', () => playlist('cam2', signer(Date.now(), 'x'.repeat(40)).sign('cam2'))],
    ['empty', () => '/hls/cam2/stream.m3u8?token='],
    ['absent', () => '/hls/cam2/stream.m3u8'],
    ['an API token in the query', () => playlist('cam2', OPERATOR)],
  ];

  test.each(refusals)('a token %s is refused with WEB_ERR_UNAUTHORIZED', async (_what, path) => {
    const { status, body } = await get(path());
    expect(status).toBe(401);
    expect(body.code).toBe('WEB_ERR_UNAUTHORIZED');
    // The refusal does not echo the token back.
    const token = new URL(path(), 'http://x').searchParams.get('token');
    if (token) expect(body.message ?? '').not.toContain(token.split('.')[1] ?? token);
  });

  test('segments and parts are guarded as the playlist is', async () => {
    const good = signer().sign('cam2');
    const other = signer().sign('cam1');
    expect((await get(`/hls/cam2/init-1.mp4?token=${other}`)).status).toBe(401);
    expect((await get(`/hls/cam2/init-1.mp4`)).status).toBe(401);
    expect((await get(`/hls/cam2/init-1.mp4?token=${good}`)).status).toBe(404);
  });
});
