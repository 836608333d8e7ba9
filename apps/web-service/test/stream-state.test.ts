import { describe, expect, test } from 'vitest';
import type { CameraState, StreamState } from '@camstream/protocol';
import { RestartBudget } from '../src/stream/restart-budget.js';
import {
  canTransition,
  describeStream,
  missedPickup,
  reactToCamera,
  type CameraChange,
} from '../src/stream/stream-state.js';

const status = (state: CameraState) => ({ state, at: '2026-01-01T00:00:00Z' });
const change = (overrides: Partial<CameraChange>): CameraChange => ({
  streamState: 'idle',
  previous: 'idle',
  next: status('idle'),
  awaitingCameraStop: false,
  activeDuringStart: false,
  ...overrides,
});

describe('transitions', () => {
  test.each<[StreamState, StreamState, boolean]>([
    ['idle', 'starting', true],
    ['starting', 'live', true],
    ['starting', 'stopping', true],
    ['live', 'stopping', true],
    ['stopping', 'idle', true],
    ['idle', 'live', false],
    ['live', 'starting', false],
    ['stopping', 'live', false],
    ['live', 'idle', false],
  ])('%s → %s: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });
});

describe('reactToCamera', () => {
  test('idle: a camera that starts by itself is picked up, once', () => {
    expect(reactToCamera(change({ previous: 'idle', next: status('starting') }))).toBe('pickup');
    expect(reactToCamera(change({ previous: null, next: status('streaming') }))).toBe('pickup');
    expect(reactToCamera(change({ previous: 'error', next: status('streaming') }))).toBe('pickup');
    expect(reactToCamera(change({ previous: 'starting', next: status('streaming') }))).toBe('none');
    expect(reactToCamera(change({ previous: 'streaming', next: status('streaming') }))).toBe('none');
  });

  test('idle: not while the camera has yet to obey the service’s stop', () => {
    const stale = change({ previous: 'idle', next: status('streaming'), awaitingCameraStop: true });
    expect(reactToCamera(stale)).toBe('none');
  });

  test('starting: offline aborts; idle aborts only after the camera was seen starting', () => {
    expect(reactToCamera(change({ streamState: 'starting', next: status('offline') }))).toBe(
      'abort-start-offline',
    );
    expect(reactToCamera(change({ streamState: 'starting', next: status('idle') }))).toBe('none');
    expect(
      reactToCamera(change({ streamState: 'starting', next: status('idle'), activeDuringStart: true })),
    ).toBe('abort-start-stopped');
    expect(reactToCamera(change({ streamState: 'starting', next: status('error') }))).toBe('none');
  });

  test('live: the camera stopping, or going offline with its video gone, ends the stream; an encoder error does not', () => {
    expect(reactToCamera(change({ streamState: 'live', next: status('idle') }))).toBe('teardown');
    expect(reactToCamera(change({ streamState: 'live', next: status('idle'), videoArriving: true }))).toBe(
      'teardown',
    );
    expect(reactToCamera(change({ streamState: 'live', next: status('offline') }))).toBe('teardown-offline');
    // Its Last Will after a broker restart, while its video still arrives: not the end.
    expect(reactToCamera(change({ streamState: 'live', next: status('offline'), videoArriving: true }))).toBe(
      'keep-offline',
    );
    expect(reactToCamera(change({ streamState: 'live', next: status('error') }))).toBe('none');
    expect(reactToCamera(change({ streamState: 'live', next: null }))).toBe('none');
  });

  test('stopping: nothing', () => {
    expect(reactToCamera(change({ streamState: 'stopping', next: status('streaming') }))).toBe('none');
  });
});

describe('missedPickup', () => {
  test('a camera becoming active while the service starts or stops; not while idle or live, nor a camera already active', () => {
    const active = { previous: 'idle' as const, next: status('starting') };
    expect(missedPickup(change({ ...active, streamState: 'starting' }))).toBe(true);
    expect(missedPickup(change({ ...active, streamState: 'stopping' }))).toBe(true);
    expect(missedPickup(change({ ...active, streamState: 'idle' }))).toBe(false); // picked up at once
    expect(missedPickup(change({ ...active, streamState: 'live' }))).toBe(false);
    expect(
      missedPickup(change({ streamState: 'stopping', previous: 'starting', next: status('streaming') })),
    ).toBe(false);
    expect(
      missedPickup(change({ streamState: 'stopping', previous: 'streaming', next: status('idle') })),
    ).toBe(false);
  });
});

describe('describeStream', () => {
  test('the URL only while live; the last error until cleared', () => {
    const error = { code: 'WEB_ERR_MANIFEST_TIMEOUT', message: 'no playlist' };
    expect(describeStream('live', 'cam1', status('streaming'), undefined)).toEqual({
      state: 'live',
      cameraId: 'cam1',
      camera: status('streaming'),
      streamUrl: '/hls/stream.m3u8',
    });
    expect(describeStream('idle', 'cam1', null, error)).toEqual({
      state: 'idle',
      cameraId: 'cam1',
      camera: null,
      lastError: error,
    });
  });
});

describe('RestartBudget', () => {
  test('allows `limit` restarts per window, then refuses until old ones age out', () => {
    let now = 0;
    const budget = new RestartBudget({ limit: 2, windowMs: 1000, now: () => now });
    expect(budget.take()).toBe(true);
    now = 500;
    expect(budget.take()).toBe(true);
    expect(budget.take()).toBe(false);
    now = 1001;
    expect(budget.take()).toBe(true);
    budget.reset();
    expect(budget.take()).toBe(true);
  });
});
