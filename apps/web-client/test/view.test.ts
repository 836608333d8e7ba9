import { describe, expect, test } from 'vitest';
import type { CameraStatus, StreamInfo } from '@camstream/protocol';
import { describeCamera, describeStream, errorKey, viewModel, type ViewInput } from '../src/logic/view';

const at = '2025-01-01T00:00:00.000Z';
const camera = (state: CameraStatus['state'], extra: Partial<CameraStatus> = {}): CameraStatus => ({
  state,
  at,
  ...extra,
});
const info = (extra: Partial<StreamInfo> = {}): StreamInfo => ({
  state: 'idle',
  cameraId: 'cam1',
  camera: camera('idle'),
  ...extra,
});
const input = (extra: Partial<ViewInput> = {}): ViewInput => ({
  info: info(),
  connection: 'open',
  pending: { start: false, stop: false },
  requestError: null,
  dismissedError: null,
  player: 'loading',
  ...extra,
});

describe('describeCamera', () => {
  test.each([
    [camera('offline'), 'offline', 'Camera offline'],
    [camera('idle'), 'idle', 'Ready'],
    [camera('starting'), 'starting', 'Starting…'],
    [camera('streaming'), 'streaming', 'Streaming'],
    [
      camera('error', { message: 'encoder exited with code 1' }),
      'error',
      'Error: encoder exited with code 1',
    ],
    [camera('error'), 'error', 'Error'],
  ])('%o → %s, "%s"', (status, state, label) => {
    expect(describeCamera(status)).toMatchObject({ state, label });
  });

  test('a camera never heard from reads as offline', () => {
    expect(describeCamera(null)).toMatchObject({ state: 'unknown', label: 'Camera offline' });
  });
});

describe('describeStream', () => {
  test.each([
    ['idle', 'Not streaming'],
    ['starting', 'Starting…'],
    ['live', 'Live'],
    ['stopping', 'Stopping…'],
  ] as const)('%s → "%s"', (state, label) => {
    expect(describeStream(state)).toMatchObject({ state, label });
  });
});

describe('viewModel', () => {
  test('before the first answer: connecting, nothing to press', () => {
    const view = viewModel(input({ info: null, connection: 'connecting' }));
    expect(view.overlay).toMatchObject({ kind: 'connecting', spinner: true });
    expect(view).toMatchObject({ canStart: false, canStop: false, cameraId: null, connectionNote: null });
  });

  test('the server not answering is said, in the overlay and the header', () => {
    const view = viewModel(input({ info: null, connection: 'down' }));
    expect(view.overlay?.kind).toBe('unreachable');
    expect(view.connectionNote).toMatch(/^Reconnecting to the server/);
    expect(viewModel(input({ connection: 'polling' })).connectionNote).toMatch(/^Reconnecting to the server/);
  });

  test.each([null, camera('offline')])('camera %o: offline card, Start disabled', (status) => {
    const view = viewModel(input({ info: info({ camera: status }) }));
    expect(view.overlay).toMatchObject({
      kind: 'offline',
      title: 'Camera offline — check the agent is running',
    });
    expect(view.canStart).toBe(false);
    expect(view.camera.label).toMatch(/offline/i);
  });

  test('camera ready, not streaming: press Start', () => {
    const view = viewModel(input());
    expect(view.overlay).toMatchObject({ kind: 'ready', title: 'Press Start to go live' });
    expect(view).toMatchObject({ canStart: true, canStop: false, playerSrc: null, startLabel: 'Start' });
  });

  test('a camera in error can still be started again', () => {
    expect(viewModel(input({ info: info({ camera: camera('error', { message: 'x' }) }) })).canStart).toBe(
      true,
    );
  });

  test('a pending start: busy Start, Stop can cancel, the overlay waits for the first segment', () => {
    const view = viewModel(input({ pending: { start: true, stop: false } }));
    expect(view).toMatchObject({ canStart: false, canStop: true, startLabel: 'Starting…' });
    expect(view.overlay).toMatchObject({
      kind: 'starting',
      title: 'Starting… waiting for the first segment',
    });
  });

  test('a start asked over MQTT shows the same way', () => {
    const view = viewModel(input({ info: info({ state: 'starting', camera: camera('starting') }) }));
    expect(view.overlay?.kind).toBe('starting');
    expect(view).toMatchObject({ canStart: false, canStop: true });
  });

  test('live: the player gets the URL; the overlay stays until the picture plays', () => {
    const live = info({ state: 'live', camera: camera('streaming'), streamUrl: '/hls/other.m3u8' });
    const loading = viewModel(input({ info: live, player: 'loading' }));
    expect(loading).toMatchObject({ playerSrc: '/hls/other.m3u8', canStart: false, canStop: true });
    expect(loading.overlay?.kind).toBe('loading');
    expect(viewModel(input({ info: live, player: 'playing' })).overlay).toBeNull();
    expect(viewModel(input({ info: live, player: 'buffering' })).overlay).toBeNull();
    expect(viewModel(input({ info: live, player: 'retrying' })).overlay?.kind).toBe('retrying');
  });

  test('live but no video from the camera: said over the last picture, with the time it stopped; it goes when the video is back', () => {
    const since = new Date(2025, 0, 1, 12, 3, 4).toISOString();
    const silent = info({
      state: 'live',
      camera: camera('streaming'),
      streamUrl: '/hls/stream.m3u8',
      input: { state: 'silent', since },
    });
    for (const player of ['playing', 'buffering', 'retrying', 'loading'] as const) {
      const view = viewModel(input({ info: silent, player }));
      expect(view.overlay).toMatchObject({ kind: 'no-video', spinner: true });
      expect(view.overlay?.text).toContain('12:03:04');
      expect(view.playerSrc).toBe('/hls/stream.m3u8'); // the player keeps going: it resumes by itself
      expect(view.stream).toMatchObject({
        state: 'live',
        label: 'Live — no video',
        detail: 'since 12:03:04',
      });
    }
    const back = info({ ...silent, input: { state: 'receiving', since } });
    expect(viewModel(input({ info: back, player: 'playing' })).overlay).toBeNull();
    expect(viewModel(input({ info: back, player: 'playing' })).stream.label).toBe('Live');
  });

  test('live without a URL falls back to the standard playlist', () => {
    expect(viewModel(input({ info: info({ state: 'live' }) })).playerSrc).toBe('/hls/stream.m3u8');
  });

  test('a browser without HLS says so', () => {
    const view = viewModel(input({ info: info({ state: 'live' }), player: 'unsupported' }));
    expect(view.overlay?.error?.message).toMatch(/cannot play HLS/);
    expect(view.errorSource).toBe('player');
  });

  test('stopping (or a pending stop) tears the player down', () => {
    const stopping = viewModel(input({ info: info({ state: 'stopping' }) }));
    expect(stopping).toMatchObject({ playerSrc: null, canStart: false, canStop: false });
    expect(stopping.overlay?.kind).toBe('stopping');
    const pending = viewModel(
      input({ info: info({ state: 'live' }), pending: { start: false, stop: true } }),
    );
    expect(pending).toMatchObject({ canStop: false, stopLabel: 'Stopping…' });
    expect(pending.overlay?.kind).toBe('stopping');
  });

  test('a failed start is shown in the video area, in plain words', () => {
    const failure = { code: 'WEB_ERR_CAMERA_OFFLINE', message: 'offline' };
    const view = viewModel(input({ requestError: { action: 'start', failure } }));
    expect(view.overlay).toMatchObject({ kind: 'error', title: 'Could not start the stream' });
    expect(view.overlay?.error?.message).toMatch(/camera is offline/);
    expect(view.banner).toBeNull();
    expect(view).toMatchObject({ errorSource: 'request', errorKey: errorKey(failure) });
  });

  test('a failed start is dropped once the stream starts after all (over MQTT, say)', () => {
    const requestError = {
      action: 'start',
      failure: { code: 'WEB_ERR_MANIFEST_TIMEOUT', message: 'x' },
    } as const;
    const view = viewModel(input({ info: info({ state: 'live' }), player: 'playing', requestError }));
    expect(view).toMatchObject({ overlay: null, banner: null, errorSource: null });
  });

  test('a failure while the picture plays goes under the controls instead', () => {
    const view = viewModel(
      input({
        info: info({ state: 'live' }),
        player: 'playing',
        requestError: { action: 'stop', failure: { code: 'CLIENT_ERR_NETWORK', message: 'Failed to fetch' } },
      }),
    );
    expect(view.overlay).toBeNull();
    expect(view.banner?.message).toMatch(/Could not reach the web service/);
    expect(view.errorSource).toBe('request');
  });

  test("the service's last failure is shown when idle, and can be dismissed", () => {
    const lastError = { code: 'WEB_ERR_MANIFEST_TIMEOUT', message: 'no playlist' };
    const view = viewModel(input({ info: info({ lastError }) }));
    expect(view.overlay).toMatchObject({ kind: 'error', title: 'The last start failed' });
    expect(view.overlay?.error?.code).toBe('WEB_ERR_MANIFEST_TIMEOUT');
    expect(view).toMatchObject({ errorSource: 'service', errorKey: errorKey(lastError) });
    const dismissed = viewModel(input({ info: info({ lastError }), dismissedError: errorKey(lastError) }));
    expect(dismissed.overlay?.kind).toBe('ready');
    // A new failure is shown again.
    const next = { code: 'WEB_ERR_CAMERA_REJECTED', message: 'busy' };
    const again = viewModel(input({ info: info({ lastError: next }), dismissedError: errorKey(lastError) }));
    expect(again.overlay?.error?.code).toBe('WEB_ERR_CAMERA_REJECTED');
  });

  test('the aria-live announcement names both states', () => {
    expect(viewModel(input()).announcement).toBe('Camera: Ready. Stream: Not streaming.');
  });
});
