/**
 * Signed stream URLs end to end, as a player that cannot send headers meets them (ffmpeg, VLC,
 * Safari's native player): the real service with AUTH_TOKENS and the agent on the test source; the
 * streamUrl the API hands out carries a token, every URI in the playlist carries one on, and
 * ffprobe and ffmpeg play the URL over HTTP with no Authorization header at all. Without the token,
 * or with the token moved to another camera's path, the same URLs are refused.
 */
import { describe, expect, test } from 'vitest';
import { HLS_MODES } from '../apps/web-service/src/config.js';
import { useCleanup } from './helpers/cleanup.js';
import { expectPlayableByFfmpeg } from './helpers/player.js';
import { json, startSystem } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { freeUdpPort } from './helpers/ports.js';

const ready = haveTools('ffmpeg', 'ffprobe');
const OPERATOR = 'op-signed-0123456789abcdef';
const VIEWER = 'view-signed-0123456789abcdef';

/** Every URI of a playlist: its media lines and its URI="…" attributes. */
function urisOf(text: string): string[] {
  const uris: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!line.startsWith('#')) uris.push(line.trim());
    else for (const match of line.matchAll(/URI="([^"]*)"/g)) uris.push(match[1]!);
  }
  return uris;
}

describe.runIf(ready).each(HLS_MODES)('signed stream URLs, HLS_MODE=%s', (mode) => {
  const cleanup = useCleanup();

  test('the streamUrl plays in ffmpeg without headers; every URI carries a token; none plays without', async () => {
    const system = await startSystem(cleanup, {
      broker: 'embedded',
      token: OPERATOR,
      webEnv: {
        HLS_MODE: mode,
        AUTH_TOKENS: `operator:${OPERATOR},viewer:${VIEWER}`,
        CAMERAS: `cam2=udp://127.0.0.1:${await freeUdpPort()}`,
      },
    });
    const started = await system.api('/api/stream/start', json());
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const { streamUrl } = started.body as { streamUrl: string };
    expect(streamUrl).toMatch(/^\/hls\/stream\.m3u8\?token=\d+\.[A-Za-z0-9_-]{43}$/);
    // A viewer is handed a signed URL too.
    const viewed = await system.api('/api/stream', { headers: { authorization: `Bearer ${VIEWER}` } });
    expect((viewed.body as { streamUrl: string }).streamUrl).toMatch(/\?token=/);

    // No header, no token: refused. The signed URL: a playlist whose URIs all carry a token.
    const bare = await fetch(`${system.baseUrl}/hls/stream.m3u8`);
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { code: string }).code).toBe('WEB_ERR_UNAUTHORIZED');
    const playlist = await fetch(system.baseUrl + streamUrl);
    expect(playlist.status).toBe(200);
    const text = await playlist.text();
    // HEAD with the signed URL answers at once too (nothing to sign, nothing held).
    const head = await fetch(system.baseUrl + streamUrl, {
      method: 'HEAD',
      signal: AbortSignal.timeout(5000),
    });
    expect(head.status).toBe(200);
    const uris = urisOf(text);
    expect(uris.length).toBeGreaterThan(0);
    const unsigned = uris.filter((uri) => !/[?&]token=\d+\.[A-Za-z0-9_-]{43}(&|$)/.test(uri));
    expect(unsigned, text).toEqual([]);

    // A media URI as listed is served; stripped of its token, or moved to another camera, it is not.
    const media = uris.find((uri) => /\.(mp4|m4s)\?/.test(uri))!;
    const resolved = new URL(media, system.baseUrl + streamUrl);
    expect((await fetch(resolved)).status).toBe(200);
    const stripped = new URL(resolved);
    stripped.search = '';
    expect((await fetch(stripped)).status).toBe(401);
    const moved = new URL(resolved);
    moved.pathname = moved.pathname.replace('/hls/', '/hls/cam2/');
    expect((await fetch(moved)).status).toBe(401);

    // ffprobe and ffmpeg play the signed URL end to end, reloading the playlist as it goes.
    await expectPlayableByFfmpeg(system.baseUrl + streamUrl, { seconds: 3, minSeconds: 2.4, minFrames: 60 });
    // Tokens never reach the service's log.
    const token = new URL(streamUrl, system.baseUrl).searchParams.get('token')!;
    expect(system.web.output()).not.toContain(token.split('.')[1]);
    expect(system.web.output()).not.toContain(OPERATOR);
  }, 90_000);
});
