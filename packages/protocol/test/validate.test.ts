import { describe, expect, test } from 'vitest';
import {
  MAX_PAYLOAD_BYTES,
  parseCameraStatus,
  parseCommandEvent,
  parseControlCommand,
  type CameraStatus,
  type ControlCommand,
  type StreamInfo,
} from '@camstream/protocol';

describe('control commands', () => {
  test('accepts the contract and extra keys from newer peers', () => {
    const result = parseControlCommand(
      JSON.stringify({ id: 'c-1', action: 'start', target: 'udp://10.0.0.5:1234', note: 'x' }),
    );
    expect(result).toEqual({
      ok: true,
      value: { id: 'c-1', action: 'start', target: 'udp://10.0.0.5:1234', note: 'x' },
    });
  });

  test('accepts bytes as they come off the wire', () => {
    const result = parseControlCommand(new TextEncoder().encode('{"id":"a","action":"stop"}'));
    expect(result.ok).toBe(true);
  });

  test('malformed JSON is an error, not an exception', () => {
    const result = parseControlCommand('{"id": "a", "action": ');
    expect(result).toMatchObject({ ok: false, id: null });
    expect(!result.ok && result.error).toMatch(/not valid JSON/);
  });

  test.each(['null', '[]', '"start"', '42'])('a non-object payload %s is rejected', (payload) => {
    const result = parseControlCommand(payload);
    expect(!result.ok && result.error).toMatch(/must be a JSON object/);
  });

  test('an unknown action names the allowed ones and keeps the id for the reply', () => {
    const result = parseControlCommand('{"id":"c-9","action":"launch"}');
    expect(result).toMatchObject({ ok: false, id: 'c-9' });
    expect(!result.ok && result.error).toBe('invalid control command: action must be one of start, stop');
  });

  test('missing and mistyped fields are all reported', () => {
    const result = parseControlCommand('{"action":1}');
    expect(result.ok).toBe(false);
    const error = !result.ok ? result.error : '';
    expect(error).toMatch(/id/);
    expect(error).toMatch(/action/);
  });

  test('a target that is not udp://host:port is rejected', () => {
    const result = parseControlCommand('{"id":"a","action":"start","target":"http://evil/"}');
    expect(!result.ok && result.error).toMatch(/target/);
  });

  test('oversized payloads are refused before parsing', () => {
    const big = JSON.stringify({ id: 'a', action: 'start', pad: 'x'.repeat(MAX_PAYLOAD_BYTES) });
    const result = parseControlCommand(big);
    expect(!result.ok && result.error).toMatch(/limit is 16384/);
  });
});

describe('status and events', () => {
  test('status needs a known state and a time', () => {
    expect(parseCameraStatus('{"state":"streaming","at":"2026-01-01T00:00:00.000Z"}').ok).toBe(true);
    expect(parseCameraStatus('{"state":"dancing","at":"x"}').ok).toBe(false);
    expect(parseCameraStatus('{"state":"idle"}').ok).toBe(false);
  });

  test('an event may carry a null command id (reply to an unreadable command)', () => {
    expect(parseCommandEvent('{"commandId":null,"ok":false,"message":"bad"}').ok).toBe(true);
    expect(parseCommandEvent('{"commandId":"a","ok":"yes"}').ok).toBe(false);
  });
});

describe('derived types', () => {
  test('unions keep their literal members (a mapped array would make them never)', () => {
    const states: CameraStatus['state'][] = ['offline', 'idle', 'starting', 'streaming', 'error'];
    const streamStates: StreamInfo['state'][] = ['idle', 'starting', 'live', 'stopping'];
    const actions: ControlCommand['action'][] = ['start', 'stop'];
    expect([states, streamStates, actions].map((list) => list.length)).toEqual([5, 4, 2]);
    expect(parseCameraStatus('{"state":"starting","at":"t"}').ok).toBe(true);
  });
});
