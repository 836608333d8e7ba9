import { describe, expect, test } from 'vitest';
import {
  afterFailure,
  chooseTransport,
  describeFailure,
  errorCodeOf,
  FIRST_FRAME_TIMEOUT_MS,
  iceHasNoPath,
  isRetryable,
  NO_PATH_CHECKS,
  NO_PATH_MIN_MS,
  preferH264,
  transportChoice,
  transportLabel,
  webrtcRetryDelayMs,
  type WebRtcFailure,
} from '../src/logic/transport';

const refused = (status: number, code?: string): WebRtcFailure => ({ kind: 'refused', status, code });

describe('transportChoice', () => {
  test('auto unless asked', () => {
    expect(transportChoice('', null)).toBe('auto');
    expect(transportChoice('?stats=1', 'nonsense')).toBe('auto');
  });

  test('the stored switch position, then ?transport= over it', () => {
    expect(transportChoice('', 'hls')).toBe('hls');
    expect(transportChoice('', 'webrtc')).toBe('webrtc');
    expect(transportChoice('?transport=webrtc', 'hls')).toBe('webrtc');
    expect(transportChoice('?stats=1&transport=hls', 'webrtc')).toBe('hls');
    expect(transportChoice('?transport=auto', 'hls')).toBe('auto');
    // An unknown value in the link: the stored position, as if it were absent.
    expect(transportChoice('?transport=rtsp', 'hls')).toBe('hls');
  });
});

describe('chooseTransport', () => {
  const base = { choice: 'auto' as const, webrtcSupported: true, failure: null };

  test('auto: WebRTC until it fails in this run of the stream, then LL-HLS', () => {
    expect(chooseTransport(base)).toBe('webrtc');
    for (const failure of [
      refused(503),
      refused(404),
      { kind: 'no-frames' } as const,
      { kind: 'connection' } as const,
    ])
      expect(chooseTransport({ ...base, failure })).toBe('hls');
  });

  test('no RTCPeerConnection: HLS whatever the choice', () => {
    for (const choice of ['auto', 'webrtc', 'hls'] as const)
      expect(chooseTransport({ ...base, choice, webrtcSupported: false })).toBe('hls');
  });

  test('forced: WebRTC stays WebRTC after failures (the player retries), HLS is HLS', () => {
    expect(chooseTransport({ ...base, choice: 'webrtc', failure: refused(503) })).toBe('webrtc');
    expect(chooseTransport({ ...base, choice: 'hls' })).toBe('hls');
  });
});

describe('retries of forced WebRTC', () => {
  test('passing trouble is retried; a refusal that will not change is not', () => {
    expect(isRetryable(refused(409))).toBe(true);
    expect(isRetryable(refused(503))).toBe(true);
    expect(isRetryable({ kind: 'no-frames' })).toBe(true);
    expect(isRetryable({ kind: 'connection' })).toBe(true);
    expect(isRetryable({ kind: 'network', message: 'x' })).toBe(true);
    expect(isRetryable(refused(404))).toBe(false);
    expect(isRetryable(refused(400, 'WEB_ERR_WHEP_BAD_OFFER'))).toBe(false);
    expect(isRetryable(refused(415))).toBe(false);
    expect(isRetryable({ kind: 'unsupported' })).toBe(false);
  });

  test('afterFailure: auto gives up before the first picture, retries once it played; forced retries', () => {
    const lost = { kind: 'connection' } as const;
    expect(afterFailure(lost, false, false)).toBe('give-up'); // auto, never played: LL-HLS
    expect(afterFailure({ kind: 'no-frames' }, false, false)).toBe('give-up');
    expect(afterFailure(lost, false, true)).toBe('retry'); // auto, played here: get it back
    expect(afterFailure(refused(503), false, true)).toBe('retry');
    expect(afterFailure(lost, true, false)).toBe('retry'); // forced
    expect(afterFailure(refused(404), true, true)).toBe('give-up'); // nothing to wait for
    expect(afterFailure(refused(400), false, true)).toBe('give-up');
  });

  test('backoff grows and stays bounded', () => {
    const delays = [0, 1, 2, 3, 4, 50].map(webrtcRetryDelayMs);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });
});

describe('the label', () => {
  test('says which transport plays', () => {
    expect(transportLabel('webrtc', true, null)).toEqual({ transport: 'webrtc', text: 'WebRTC · real time' });
    expect(transportLabel('hls', true, null)).toEqual({ transport: 'hls', text: 'LL-HLS' });
    expect(transportLabel('hls', false, null)).toEqual({ transport: 'hls', text: 'HLS' });
    expect(transportLabel('webrtc', true, null, true).text).toBe('WebRTC · connecting…');
    expect(transportLabel('webrtc', true, refused(404), true).note).toBe(
      'Not playing: the server does not offer WebRTC',
    );
    expect(transportLabel('webrtc', true, refused(404), false).note).toBeUndefined();
    expect(transportLabel('hls', true, null, true).text).toBe('LL-HLS');
  });

  test('after a fallback, why WebRTC is not playing', () => {
    expect(transportLabel('hls', true, refused(503, 'WEB_ERR_WHEP_TOO_MANY_VIEWERS')).note).toBe(
      'WebRTC unavailable: the server has too many WebRTC viewers',
    );
    expect(transportLabel('hls', true, refused(404)).note).toMatch(/does not offer WebRTC/);
    expect(transportLabel('hls', true, { kind: 'no-frames' }).note).toMatch(/UDP blocked/);
    expect(describeFailure(refused(400, 'WEB_ERR_WHEP_BAD_OFFER'))).toMatch(/WEB_ERR_WHEP_BAD_OFFER/);
    expect(describeFailure(refused(500))).toMatch(/HTTP 500/);
    expect(describeFailure({ kind: 'unsupported' })).toMatch(/no WebRTC/);
  });
});

test('errorCodeOf reads the service’s coded JSON, and nothing else', () => {
  expect(errorCodeOf('{"code":"WEB_ERR_WHEP_TOO_MANY_VIEWERS","message":"…"}')).toBe(
    'WEB_ERR_WHEP_TOO_MANY_VIEWERS',
  );
  expect(errorCodeOf('<html>')).toBeUndefined();
  expect(errorCodeOf('{"code":5}')).toBeUndefined();
  expect(errorCodeOf('null')).toBeUndefined();
});

test('preferH264 puts H.264 first, constrained baseline ahead, the rest in the browser’s order', () => {
  const codecs = [
    { mimeType: 'video/VP8' },
    { mimeType: 'video/rtx', sdpFmtpLine: 'apt=96' },
    { mimeType: 'video/H264', sdpFmtpLine: 'packetization-mode=1;profile-level-id=640c1f' },
    { mimeType: 'video/H264', sdpFmtpLine: 'packetization-mode=1;profile-level-id=42e01f' },
    { mimeType: 'video/VP9' },
  ];
  expect(preferH264(codecs).map((c) => `${c.mimeType} ${c.sdpFmtpLine ?? ''}`.trim())).toEqual([
    'video/H264 packetization-mode=1;profile-level-id=42e01f',
    'video/H264 packetization-mode=1;profile-level-id=640c1f',
    'video/VP8',
    'video/rtx apt=96',
    'video/VP9',
  ]);
  expect(codecs[0]!.mimeType).toBe('video/VP8'); // not sorted in place
});

describe('iceHasNoPath', () => {
  const checks = (sinceAnswerMs: number, requestsSent: number, responsesReceived = 0) => ({
    sinceAnswerMs,
    requestsSent,
    responsesReceived,
  });

  test('checks that all go unanswered, enough of them over long enough: no path', () => {
    expect(iceHasNoPath(checks(NO_PATH_MIN_MS, NO_PATH_CHECKS))).toBe(true);
    expect(iceHasNoPath(checks(NO_PATH_MIN_MS + 5_000, NO_PATH_CHECKS * 10))).toBe(true);
  });

  test('one answer on any pair is a path; too soon or too few checks (a busy machine) is no verdict', () => {
    expect(iceHasNoPath(checks(NO_PATH_MIN_MS * 3, NO_PATH_CHECKS * 3, 1))).toBe(false);
    expect(iceHasNoPath(checks(NO_PATH_MIN_MS - 1, NO_PATH_CHECKS * 3))).toBe(false);
    expect(iceHasNoPath(checks(NO_PATH_MIN_MS * 10, NO_PATH_CHECKS - 1))).toBe(false);
    expect(iceHasNoPath(checks(0, 0))).toBe(false);
  });

  test('it says so well before the first-frame timeout would', () => {
    expect(NO_PATH_MIN_MS).toBeLessThan(FIRST_FRAME_TIMEOUT_MS / 2);
  });
});
