import { describe, expect, test } from 'vitest';
import { parseStreamInfo, toStreamInfo } from '../src/logic/stream-info';

const live = {
  state: 'live',
  cameraId: 'cam1',
  camera: { state: 'streaming', at: '2025-01-01T00:00:00.000Z', source: 'test' },
  streamUrl: '/hls/stream.m3u8',
};

describe('parseStreamInfo', () => {
  test('accepts StreamInfo, with or without a camera status, keeping unknown fields', () => {
    expect(parseStreamInfo(JSON.stringify(live))).toEqual(live);
    expect(parseStreamInfo(JSON.stringify({ state: 'idle', cameraId: 'cam1', camera: null }))).toEqual({
      state: 'idle',
      cameraId: 'cam1',
      camera: null,
    });
    expect(toStreamInfo({ ...live, extra: 1 })).toMatchObject({ extra: 1 });
  });

  test.each([
    ['not JSON', '{'],
    ['not an object', '[]'],
    ['an unknown state', JSON.stringify({ ...live, state: 'paused' })],
    ['no camera id', JSON.stringify({ ...live, cameraId: undefined })],
    ['a camera without a state', JSON.stringify({ ...live, camera: { at: 'x' } })],
    ['an unknown camera state', JSON.stringify({ ...live, camera: { state: 'asleep', at: 'x' } })],
    ['a bad lastError', JSON.stringify({ ...live, lastError: { code: 1 } })],
    ['a bad streamUrl', JSON.stringify({ ...live, streamUrl: 5 })],
  ])('rejects %s', (_what, text) => {
    expect(parseStreamInfo(text)).toBeNull();
  });
});
