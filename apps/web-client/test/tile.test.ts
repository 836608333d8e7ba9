import { describe, expect, test } from 'vitest';
import type { CameraStatus, StreamInfo } from '@camstream/protocol';
import { liveTiles, MAX_LIVE_TILES, tileView } from '../src/logic/tile';

const at = '2025-01-01T00:00:00.000Z';
const status = (state: CameraStatus['state'], extra: Partial<CameraStatus> = {}): CameraStatus => ({
  state,
  at,
  ...extra,
});
const cam = (cameraId: string, extra: Partial<StreamInfo> = {}): StreamInfo => ({
  state: 'idle',
  cameraId,
  camera: status('idle'),
  ...extra,
});
const live = (cameraId: string): StreamInfo =>
  cam(cameraId, { state: 'live', camera: status('streaming'), streamUrl: `/hls/${cameraId}/stream.m3u8` });

describe('tileView: one state word and colour', () => {
  test.each<[string, Partial<StreamInfo>, string, string, string]>([
    ['never heard of', { camera: null }, 'offline', 'Offline', 'off'],
    ['offline', { camera: status('offline') }, 'offline', 'Offline', 'off'],
    ['idle', {}, 'idle', 'Ready', 'ok'],
    ['camera starting on its own', { camera: status('starting') }, 'starting', 'Starting…', 'busy'],
    ['stream starting', { state: 'starting', camera: status('starting') }, 'starting', 'Starting…', 'busy'],
    [
      'live',
      { state: 'live', camera: status('streaming'), streamUrl: '/hls/c/stream.m3u8' },
      'live',
      'Live',
      'live',
    ],
    ['stopping', { state: 'stopping' }, 'stopping', 'Stopping…', 'busy'],
    ['camera error', { camera: status('error', { message: 'no camera found' }) }, 'error', 'Error', 'bad'],
  ])('%s → %s', (_name, extra, state, label, tone) => {
    expect(tileView(cam('c', extra))).toMatchObject({ state, label, tone });
  });

  test('only a live camera has a picture to play, at its own URL', () => {
    expect(tileView(live('cam2')).src).toBe('/hls/cam2/stream.m3u8');
    for (const state of ['idle', 'starting', 'stopping'] as const) {
      expect(tileView(cam('cam2', { state, streamUrl: '/hls/cam2/stream.m3u8' })).src).toBeNull();
    }
  });

  test('live but no video arriving: said so, in the busy colour', () => {
    const view = tileView({ ...live('cam2'), input: { state: 'silent', since: at } });
    expect(view).toMatchObject({ state: 'live', label: 'Live — no video', tone: 'busy' });
    expect(view.placeholder).toMatch(/no video/i);
  });

  test('the placeholder always says something (never a blank box)', () => {
    const infos: StreamInfo[] = [
      cam('a', { camera: null }),
      cam('a', { camera: status('offline') }),
      cam('a'),
      cam('a', { state: 'starting' }),
      live('a'),
      cam('a', { state: 'stopping' }),
      cam('a', { camera: status('error') }),
    ];
    for (const info of infos) expect(tileView(info).placeholder.length).toBeGreaterThan(3);
  });

  test('the last error: the service’s lastError in plain words, else the camera’s own message', () => {
    const failed = tileView(
      cam('c', { lastError: { code: 'WEB_ERR_CAMERA_OFFLINE', message: 'cam offline' } }),
    );
    expect(failed.error).toMatch(/offline/i);
    expect(tileView(cam('c', { camera: status('error', { message: ' encoder died ' }) })).error).toBe(
      'encoder died',
    );
    expect(tileView(cam('c', { camera: status('error') })).error).toBeNull();
    expect(tileView(cam('c')).error).toBeNull();
  });
});

describe('liveTiles: live, on screen, a few at most', () => {
  const cameras = [live('a'), cam('b'), live('c'), live('d'), live('e'), live('f'), live('g')];
  const all = new Set(cameras.map((c) => c.cameraId));

  test('only live cameras on screen play', () => {
    expect([...liveTiles(cameras, new Set(['a', 'b', 'c']))]).toEqual(['a', 'c']);
    expect([...liveTiles(cameras, new Set())]).toEqual([]);
  });

  test('at most MAX_LIVE_TILES, the first in the grid’s order', () => {
    expect(MAX_LIVE_TILES).toBeGreaterThan(0);
    const playing = liveTiles(cameras, all);
    expect(playing.size).toBe(MAX_LIVE_TILES);
    expect([...playing]).toEqual(['a', 'c', 'd', 'e', 'f', 'g'].slice(0, MAX_LIVE_TILES));
    expect([...liveTiles(cameras, all, 2)]).toEqual(['a', 'c']);
    expect(liveTiles(cameras, all, 0).size).toBe(0);
  });

  test('a live camera without a stream URL does not play', () => {
    expect(liveTiles([cam('a', { state: 'live' })], new Set(['a'])).size).toBe(0);
  });
});
