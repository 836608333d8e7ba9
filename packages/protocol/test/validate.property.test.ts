/**
 * The payload validators against arbitrary input (fast-check): they never throw, they accept exactly
 * what the wire contract allows, and a rejection carries the command's id only when one could be
 * read. The oracle (test/helpers/control-payloads.ts) is the contract written out again,
 * independently of the TypeBox schemas.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  CAMERA_STATES,
  MAX_PAYLOAD_BYTES,
  parseCameraStatus,
  parseCommandEvent,
  parseControlCommand,
} from '@camstream/protocol';
import {
  anyControlPayload as anyPayload,
  brokenCommand,
  expectedControl,
  notAString,
  validCommand,
} from '../../../test/helpers/control-payloads.js';
import { checkProperty } from '../../../test/helpers/fuzz.js';

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

describe('parseControlCommand, fuzzed', () => {
  test('never throws; accepts exactly the contract; a rejection has a reason and the id when one was readable', () => {
    checkProperty(
      fc.property(anyPayload, (payload) => {
        const result = parseControlCommand(payload);
        const expected = expectedControl(payload);
        expect(result.ok).toBe(expected.valid);
        if (!result.ok) {
          expect(result.error).toMatch(/\S/);
          expect(result.id).toBe(expected.valid ? undefined : expected.id);
        } else {
          const text = typeof payload === 'string' ? payload : strictUtf8.decode(payload);
          expect(result.value).toEqual(JSON.parse(text));
        }
      }),
      3000,
    );
  });

  test('every command of the contract is accepted as sent, extra keys included, as text or bytes', () => {
    checkProperty(
      fc.property(validCommand, (command) => {
        const text = JSON.stringify(command);
        expect(parseControlCommand(text)).toEqual({ ok: true, value: command });
        expect(parseControlCommand(utf8.encode(text))).toEqual({ ok: true, value: command });
      }),
      1000,
    );
  });

  test('a command with one field wrong or missing is rejected, naming the field, and keeps its id', () => {
    checkProperty(
      fc.property(brokenCommand, (command) => {
        const result = parseControlCommand(JSON.stringify(command));
        expect(result.ok).toBe(false);
        if (result.ok) return;
        const { id } = command;
        expect(result.id).toBe(typeof id === 'string' && id.length >= 1 && id.length <= 128 ? id : null);
        const field = ['id', 'action', 'target'].find((key) => result.error.includes(key));
        expect(field, result.error).toBeDefined();
      }),
      1000,
    );
  });

  test('a payload over the limit is refused before it is read, whatever it holds', () => {
    checkProperty(
      fc.property(validCommand, fc.integer({ min: 1, max: 4 * MAX_PAYLOAD_BYTES }), (command, over) => {
        const text = JSON.stringify(command);
        const padded = `${text.slice(0, -1)},"pad":"${'x'.repeat(MAX_PAYLOAD_BYTES + over - text.length)}"}`;
        const result = parseControlCommand(utf8.encode(padded));
        expect(result).toEqual({ ok: false, id: null, error: expect.stringMatching(/limit is 16384/) });
      }),
      50,
    );
  });

  test('invalid UTF-8 is refused, never read with replacement characters', () => {
    const invalid = fc.constantFrom([0xff], [0xfe], [0xc0, 0xae], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80]);
    checkProperty(
      fc.property(validCommand, invalid, (command, bytes) => {
        const [before, after] = JSON.stringify({ ...command, id: '\u0000' }).split('\\u0000') as [
          string,
          string,
        ];
        const payload = new Uint8Array([...utf8.encode(before), ...bytes, ...utf8.encode(after)]);
        expect(parseControlCommand(payload)).toEqual({
          ok: false,
          id: null,
          error: 'control command is not valid UTF-8',
        });
      }),
      200,
    );
  });

  test('two ids that differ only in invalid bytes are not read as the same id', () => {
    const withId = (idBytes: number[]) =>
      new Uint8Array([...utf8.encode('{"id":"'), ...idBytes, ...utf8.encode('","action":"stop"}')]);
    const first = parseControlCommand(withId([0xff, 0x31]));
    const second = parseControlCommand(withId([0xfe, 0x31]));
    expect(first.ok || second.ok).toBe(false);
  });

  test('a target whose port is outside 1-65535 is refused, with the id', () => {
    for (const target of ['udp://127.0.0.1:0', 'udp://127.0.0.1:65536', 'udp://cam.lan:99999']) {
      const result = parseControlCommand(JSON.stringify({ id: 'p-1', action: 'start', target }));
      expect(result).toEqual({
        ok: false,
        id: 'p-1',
        error: `invalid control command: target ${JSON.stringify(target)}: port must be 1-65535`,
      });
    }
    expect(parseControlCommand('{"id":"p-2","action":"start","target":"udp://127.0.0.1:65535"}').ok).toBe(
      true,
    );
  });
});

describe('status and event validators, fuzzed', () => {
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? ''),
    fc
      .record(
        {
          state: fc.oneof(fc.constantFrom(...CAMERA_STATES), fc.string({ maxLength: 10 }), notAString),
          at: fc.oneof(
            fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
            fc.string(),
            notAString,
          ),
          message: fc.oneof(fc.string(), notAString),
          commandId: fc.oneof(fc.string(), fc.constant(null), notAString),
          ok: fc.oneof(fc.boolean(), notAString),
        },
        { requiredKeys: [] },
      )
      .map((value) => JSON.stringify(value)),
  );

  test('a status is accepted only with a known state and a time; never throws', () => {
    checkProperty(
      fc.property(anyText, (text) => {
        const result = parseCameraStatus(text);
        let value: Record<string, unknown> | undefined;
        try {
          const parsed: unknown = JSON.parse(text);
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
            value = parsed as never;
        } catch {
          // not JSON: must be rejected
        }
        const valid =
          value !== undefined &&
          (CAMERA_STATES as readonly unknown[]).includes(value.state) &&
          typeof value.at === 'string' &&
          value.at.length > 0 &&
          ['message', 'target', 'source'].every(
            (key) => value[key] === undefined || typeof value[key] === 'string',
          );
        expect(result.ok).toBe(valid);
        if (!result.ok) expect(result.error).toMatch(/\S/);
      }),
      2000,
    );
  });

  test('an event is accepted only with a string or null commandId and a boolean ok; never throws', () => {
    checkProperty(
      fc.property(anyText, (text) => {
        const result = parseCommandEvent(text);
        let value: Record<string, unknown> | undefined;
        try {
          const parsed: unknown = JSON.parse(text);
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
            value = parsed as never;
        } catch {
          // not JSON: must be rejected
        }
        const valid =
          value !== undefined &&
          (typeof value.commandId === 'string' || value.commandId === null) &&
          typeof value.ok === 'boolean' &&
          (value.message === undefined || typeof value.message === 'string') &&
          (value.state === undefined || (CAMERA_STATES as readonly unknown[]).includes(value.state));
        expect(result.ok).toBe(valid);
      }),
      2000,
    );
  });
});
