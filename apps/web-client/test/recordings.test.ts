import { describe, expect, test } from 'vitest';
import type { Recording, StreamInfo } from '@camstream/protocol';
import {
  formatBytes,
  formatClock,
  formatDuration,
  formatStart,
  linkStillValid,
  listMessage,
  recordControl,
  recordingEnded,
  recordingIndicator,
  recordingsChanged,
  signedUrlExpiry,
  startBody,
  toRecordingList,
} from '../src/logic/recordings';

const at = '2026-12-06T10:00:00.000Z';
const info = (extra: Partial<StreamInfo> = {}): StreamInfo => ({
  state: 'idle',
  cameraId: 'cam1',
  camera: { state: 'idle', at },
  recording: false,
  recordMode: 'on-demand',
  ...extra,
});
const live = (extra: Partial<StreamInfo> = {}) =>
  info({ state: 'live', camera: { state: 'streaming', at }, streamUrl: '/hls/stream.m3u8', ...extra });
const recording = (extra: Partial<Recording> = {}): Recording => ({
  id: 'cam1~2026-12-06~10-00-00.000Z',
  cameraId: 'cam1',
  start: '2026-12-06T10:00:00.000Z',
  end: '2026-12-06T10:00:10.000Z',
  duration: 10.01,
  bytes: 2_656_726,
  recording: false,
  playlistUrl: '/api/recordings/cam1~2026-12-06~10-00-00.000Z/playlist.m3u8',
  mp4Url: '/api/recordings/cam1~2026-12-06~10-00-00.000Z.mp4',
  ...extra,
});

describe('recordControl: what an operator is offered', () => {
  const base = { mayControl: true, recordNext: false, busy: false };

  test('nothing when the service does not record, before the first answer, or for a viewer', () => {
    const { recording: _, recordMode: __, ...off } = info();
    expect(recordControl({ ...base, info: off })).toEqual({ kind: 'none' });
    expect(recordControl({ ...base, info: null })).toEqual({ kind: 'none' });
    expect(recordControl({ ...base, mayControl: false, info: live({ recording: true }) })).toEqual({
      kind: 'none',
    });
  });

  test('RECORD=always: words, no choice', () => {
    expect(recordControl({ ...base, info: info({ recordMode: 'always', recording: true }) })).toEqual({
      kind: 'always',
    });
  });

  test('not streaming: a choice for the next Start, sent as {"record": true} only when ticked', () => {
    const unticked = recordControl({ ...base, info: info() });
    expect(unticked).toEqual({ kind: 'next-start', checked: false, disabled: false });
    expect(startBody(unticked)).toBeUndefined();
    const ticked = recordControl({ ...base, recordNext: true, info: info() });
    expect(startBody(ticked)).toEqual({ record: true });
    expect(recordControl({ ...base, busy: true, info: info() })).toMatchObject({ disabled: true });
  });

  test('streaming: Record or Stop recording; disabled while starting, stopping or busy', () => {
    expect(recordControl({ ...base, info: live() })).toEqual({
      kind: 'live',
      recording: false,
      disabled: false,
    });
    const on = recordControl({ ...base, info: live({ recording: true }) });
    expect(on).toEqual({ kind: 'live', recording: true, disabled: false });
    expect(startBody(on)).toBeUndefined(); // the Start button is not what records a running stream
    expect(recordControl({ ...base, info: info({ state: 'starting' }) })).toMatchObject({ disabled: true });
    expect(recordControl({ ...base, info: info({ state: 'stopping' }) })).toMatchObject({ disabled: true });
    expect(recordControl({ ...base, busy: true, info: live() })).toMatchObject({ disabled: true });
  });
});

describe('recordingIndicator: the red dot and the time', () => {
  const since = Date.parse('2026-12-06T10:00:00.000Z');

  test('only while a live stream is recorded', () => {
    expect(recordingIndicator(null, since)).toBeNull();
    expect(recordingIndicator(live(), since)).toBeNull();
    // RECORD=always says recording while idle: nothing is being written, no dot.
    expect(recordingIndicator(info({ recording: true, recordMode: 'always' }), since)).toBeNull();
    expect(recordingIndicator(info({ state: 'starting', recording: true }), since)).toBeNull();
  });

  test('the elapsed time from recordingSince', () => {
    const on = live({ recording: true, recordingSince: '2026-12-06T10:00:00.000Z' });
    expect(recordingIndicator(on, since + 65_400)).toEqual({ elapsed: '1:05', label: 'Recording for 1:05' });
    // A page clock a little behind the service's: never a negative time.
    expect(recordingIndicator(on, since - 2000)?.elapsed).toBe('0:00');
  });

  test('an older service without recordingSince: the dot without a time', () => {
    expect(recordingIndicator(live({ recording: true }), since)).toEqual({
      elapsed: null,
      label: 'Recording',
    });
    expect(recordingIndicator(live({ recording: true, recordingSince: 'soon' }), since)?.elapsed).toBeNull();
  });
});

describe('recordingEnded: when the list is fetched again', () => {
  test.each<[string, StreamInfo | null, StreamInfo | null, boolean]>([
    [
      'stopped while recording (idle comes once the recording is closed)',
      live({ recording: true }),
      info(),
      true,
    ],
    [
      'stopping is still too early',
      live({ recording: true }),
      info({ state: 'stopping', recording: true }),
      false,
    ],
    ['stopping → idle', info({ state: 'stopping', recording: true }), info(), true],
    ['Stop recording on a live stream', live({ recording: true }), live({ recording: false }), true],
    ['recording begins', live(), live({ recording: true }), false],
    ['nothing recorded', live(), info(), false],
    ['RECORD=always, stream stops', live({ recording: true }), info({ recording: true }), true],
    ['RECORD=always, idle to idle', info({ recording: true }), info({ recording: true }), false],
    ['first answer', null, live({ recording: true }), false],
  ])('%s', (_what, previous, next, expected) => {
    expect(recordingEnded(previous, next)).toBe(expected);
  });
});

describe('recordingsChanged: an end, or a cut into the next recording (RECORD_MAX_SECONDS)', () => {
  const a = 'cam1~2026-12-06~10-00-00.000Z';
  const b = 'cam1~2026-12-06~11-00-00.020Z';
  test.each<[string, StreamInfo | null, StreamInfo | null, boolean]>([
    [
      'a cut: a new id while recording',
      live({ recording: true, recordingId: a }),
      live({ recording: true, recordingId: b }),
      true,
    ],
    [
      'the first keyframe: an id appears',
      live({ recording: true }),
      live({ recording: true, recordingId: a }),
      false,
    ],
    [
      'the same recording',
      live({ recording: true, recordingId: a }),
      live({ recording: true, recordingId: a }),
      false,
    ],
    ['an end still counts', live({ recording: true, recordingId: a }), live({ recording: false }), true],
    ['first answer', null, live({ recording: true, recordingId: a }), false],
  ])('%s', (_what, previous, next, expected) => {
    expect(recordingsChanged(previous, next)).toBe(expected);
  });
});

describe('numbers and times in words', () => {
  test.each([
    [0, '0:00'],
    [7.9, '0:07'],
    [754, '12:34'],
    [3723, '1:02:03'],
    [-5, '0:00'],
    [NaN, '0:00'],
  ])('formatClock(%s) = %s', (seconds, text) => {
    expect(formatClock(seconds)).toBe(text);
  });

  test('a duration is rounded to the nearest second', () => {
    expect(formatDuration(9.6)).toBe('0:10');
    expect(formatDuration(10.23)).toBe('0:10');
  });

  test.each([
    [0, '0 B'],
    [840, '840 B'],
    [1000, '1.0 kB'],
    [512_000, '512 kB'],
    [2_656_726, '2.7 MB'],
    [930_000_000, '930 MB'],
    [1_400_000_000, '1.4 GB'],
  ])('formatBytes(%s) = %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  test('the start: today, yesterday, or the date, in the page’s time zone', () => {
    const now = new Date(2026, 11, 6, 15, 30).getTime();
    expect(formatStart(new Date(2026, 11, 6, 9, 5, 3).toISOString(), now)).toBe('Today 09:05:03');
    expect(formatStart(new Date(2026, 11, 5, 23, 59, 59).toISOString(), now)).toBe('Yesterday 23:59:59');
    expect(formatStart(new Date(2026, 10, 30, 8, 0, 0).toISOString(), now)).toBe('2026-11-30 08:00:00');
    // Across a month's end.
    expect(
      formatStart(new Date(2026, 10, 30, 8, 0, 0).toISOString(), new Date(2026, 11, 1, 1).getTime()),
    ).toBe('Yesterday 08:00:00');
    expect(formatStart('not a time', now)).toBe('not a time');
  });
});

describe('toRecordingList: the service’s answer, newest first', () => {
  test('reverses the service’s order (oldest first) and keeps every field', () => {
    const older = recording({ id: 'a', start: '2026-12-06T09:00:00.000Z' });
    const newer = recording({ id: 'b' });
    expect(toRecordingList({ recordings: [older, newer] })).toEqual([newer, older]);
    expect(toRecordingList({ recordings: [] })).toEqual([]);
  });

  test.each([
    ['not an object', []],
    ['no list', {}],
    ['a list that is not one', { recordings: 'x' }],
    ['a recording without an mp4Url', { recordings: [{ ...recording(), mp4Url: undefined }] }],
    ['a duration that is a string', { recordings: [{ ...recording(), duration: '10' }] }],
    ['recording that is not a boolean', { recordings: [{ ...recording(), recording: 'no' }] }],
  ])('rejects %s', (_what, value) => {
    expect(toRecordingList(value)).toBeNull();
  });
});

describe('signed links', () => {
  const url = '/api/recordings/x.mp4?token=1765015200.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde';

  test('the expiry is read from the token; no token, no expiry', () => {
    expect(signedUrlExpiry(url)).toBe(1_765_015_200_000);
    expect(signedUrlExpiry('/api/recordings/x.mp4')).toBeNull();
  });

  test('a link is fetched afresh within 30 s of its expiry', () => {
    expect(linkStillValid(url, 1_765_015_200_000 - 60_000)).toBe(true);
    expect(linkStillValid(url, 1_765_015_200_000 - 10_000)).toBe(false);
    expect(linkStillValid('/api/recordings/x.mp4', Number.MAX_SAFE_INTEGER)).toBe(true);
  });
});

describe('listMessage: never a blank', () => {
  test('loading, an error with its reason, none yet (with what to do), or the rows', () => {
    expect(listMessage({ kind: 'loading' }, false, 'none')).toBe('Loading recordings…');
    expect(listMessage({ kind: 'error', message: 'Could not reach the web service.' }, false, 'none')).toBe(
      'Could not load the recordings: Could not reach the web service.',
    );
    const none = { kind: 'ready', recordings: [] } as const;
    expect(listMessage(none, false, 'next-start')).toMatch(/Tick Record before Start/);
    expect(listMessage(none, false, 'none')).toBe('No recordings of this camera yet.');
    expect(listMessage(none, true, 'live')).toMatch(/being made is listed here once it ends/);
    expect(listMessage({ kind: 'ready', recordings: [recording()] }, false, 'none')).toBeNull();
  });
});
