/**
 * What may arrive on `cameras/<id>/control`, for fast-check, and the wire contract's verdict on it,
 * written out independently of the TypeBox schemas: a valid command, or a rejection that carries the
 * command's id when one could be read (null otherwise).
 */
import fc from 'fast-check';
import { MAX_PAYLOAD_BYTES } from '@camstream/protocol';

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export type ControlVerdict = { valid: true } | { valid: false; id: string | null };

export function expectedControl(payload: Uint8Array | string): ControlVerdict {
  const bytes = typeof payload === 'string' ? utf8.encode(payload) : payload;
  if (bytes.byteLength > MAX_PAYLOAD_BYTES) return { valid: false, id: null };
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : strictUtf8.decode(payload));
  } catch {
    return { valid: false, id: null };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { valid: false, id: null };
  const { id, action, target } = value as Record<string, unknown>;
  const goodId = typeof id === 'string' && id.length >= 1 && id.length <= 128;
  const goodAction = action === 'start' || action === 'stop';
  const goodTarget = target === undefined || (typeof target === 'string' && isUdpTarget(target));
  if (goodId && goodAction && goodTarget) return { valid: true };
  return { valid: false, id: goodId ? id : null };
}

export function isUdpTarget(target: string): boolean {
  if (target.length > 300) return false;
  const match = /^udp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(target);
  return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
}

export const validId = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.uuid());
const port = fc.integer({ min: 1, max: 65535 });
export const validTarget = fc.oneof(
  fc.tuple(fc.ipV4(), port).map(([host, p]) => `udp://${host}:${p}`),
  fc.tuple(fc.domain(), port).map(([host, p]) => `udp://${host}:${p}`),
  fc.tuple(fc.ipV6(), port).map(([host, p]) => `udp://[${host}]:${p}`),
);
/** Keys a newer peer might add; never the contract's own. */
const extraKeys = fc.dictionary(
  fc.string({ maxLength: 12 }).filter((key) => !['id', 'action', 'target'].includes(key)),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);
export const validCommand = fc
  .tuple(
    fc.record(
      { id: validId, action: fc.constantFrom('start', 'stop'), target: validTarget },
      { requiredKeys: ['id', 'action'] },
    ),
    extraKeys,
  )
  .map(([command, extra]) => ({ ...extra, ...command }));

export const notAString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);
const badId = fc.oneof(notAString, fc.constant(''), fc.string({ minLength: 129, maxLength: 300 }));
const badAction = fc.oneof(
  notAString,
  fc.string({ maxLength: 20 }).filter((action) => action !== 'start' && action !== 'stop'),
  fc.constantFrom('START', 'Start', ' start', 'stop ', 'restart', 'dance'),
);
const badTarget = fc.oneof(
  notAString,
  fc.string({ maxLength: 40 }).filter((target) => !isUdpTarget(target)),
  fc.constantFrom(
    'udp://127.0.0.1:0',
    'udp://127.0.0.1:65536',
    'udp://host:99999',
    'http://evil/',
    'udp://a b:1',
  ),
  fc.constantFrom('udp://127.0.0.1:1234/x', 'udp://127.0.0.1:1234?x=1', 'udp://[::1:1234', 'udp://:1234'),
);

/** A valid command with exactly one field broken (or missing). */
export const brokenCommand = fc
  .tuple(
    validCommand,
    fc.constantFrom('id', 'action', 'target', 'no id', 'no action'),
    badId,
    badAction,
    badTarget,
  )
  .map(([command, field, id, action, target]) => {
    const broken: Record<string, unknown> = { ...command };
    if (field === 'id') broken.id = id;
    if (field === 'action') broken.action = action;
    if (field === 'target') broken.target = target;
    if (field === 'no id') delete broken.id;
    if (field === 'no action') delete broken.action;
    return broken;
  });

/** Anything that may arrive on the control topic, under the size limit. */
export const anyControlPayload: fc.Arbitrary<Uint8Array | string> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value) ?? ''),
  validCommand.map((command) => JSON.stringify(command)),
  brokenCommand.map((command) => JSON.stringify(command)),
  // A command wrapped in more structure than the contract has.
  validCommand.map((command) => JSON.stringify({ command })),
  validCommand.map((command) => JSON.stringify([command])),
  validCommand.map((command) => JSON.stringify(JSON.stringify(command))),
  // Invalid UTF-8 inside an otherwise valid command.
  fc
    .tuple(validCommand, fc.constantFrom([0xff], [0xc0, 0xae], [0xed, 0xa0, 0x80], [0x80]))
    .map(([command, bytes]) => {
      const [before, after] = JSON.stringify({ ...command, id: '\u0000' }).split('\\u0000') as [
        string,
        string,
      ];
      return new Uint8Array([...utf8.encode(before), ...bytes, ...utf8.encode(after)]);
    }),
  // JSON cut short.
  validCommand.chain((command) => {
    const text = JSON.stringify(command);
    return fc.nat({ max: text.length - 1 }).map((cut) => text.slice(0, cut));
  }),
);
