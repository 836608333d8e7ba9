/** Runtime validation of MQTT payloads: bytes in, a typed value or a clear error out. Never throws. */
import type { TSchema, Static } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  CameraStatusSchema,
  CommandEventSchema,
  ControlCommandSchema,
  type CameraStatus,
  type CommandEvent,
  type ControlCommand,
} from './schemas.js';
import { parseUdpTarget } from './udp.js';

/** Larger payloads are rejected before parsing: no command needs more. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly error: string;
      /** The payload's `id` when it could be read, so a rejection can still be answered. */
      readonly id: string | null;
    };

type Checker<T extends TSchema> = ReturnType<typeof Compile<T>>;

function describeErrors<T extends TSchema>(schema: T, checker: Checker<T>, value: unknown): string {
  const seen = new Set<string>();
  for (const error of checker.Errors(value)) {
    const where = error.instancePath === '' ? 'payload' : error.instancePath.slice(1);
    // anyOf failures repeat once per branch; one line per field is enough.
    if ([...seen].some((line) => line.startsWith(`${where} `))) continue;
    if (error.keyword === 'const' || error.keyword === 'anyOf') {
      const allowed = literalOptions(error.schemaPath, schema);
      seen.add(allowed ? `${where} must be one of ${allowed}` : `${where} ${error.message}`);
    } else {
      seen.add(`${where} ${error.message}`);
    }
    if (seen.size >= 5) break;
  }
  return [...seen].join('; ');
}

function literalOptions(schemaPath: string, schema: TSchema): string | undefined {
  // schemaPath looks like '#/properties/action/anyOf/0'; find the union it belongs to.
  const path = schemaPath
    .replace(/^#\/?/, '')
    .split('/')
    .filter((p) => p !== '');
  const anyOfAt = path.lastIndexOf('anyOf');
  const unionPath = anyOfAt >= 0 ? path.slice(0, anyOfAt) : path;
  let node: unknown = schema;
  for (const key of unionPath) node = (node as Record<string, unknown> | undefined)?.[key];
  const branches = (node as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf;
  if (!branches?.every((b) => typeof b.const === 'string')) return undefined;
  return branches.map((b) => String(b.const)).join(', ');
}

// TextEncoder/TextDecoder rather than Buffer: the web client imports this module too. JSON is
// UTF-8 (RFC 8259 §8.1): a lenient decoder would turn different invalid bytes into the same U+FFFD,
// so two distinct command ids could read as one (and the second be taken for a duplicate).
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function readId(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const id = (value as Record<string, unknown>).id;
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : null;
}

/** A check the schema cannot express; returns what is wrong, or undefined. */
type Refinement<T> = (value: T) => string | undefined;

function makeParser<T extends TSchema>(schema: T, what: string, refine?: Refinement<Static<T>>) {
  const checker = Compile(schema);
  return (payload: Uint8Array | string): ParseResult<Static<T>> => {
    const bytes = typeof payload === 'string' ? encoder.encode(payload) : payload;
    const size = bytes.byteLength;
    if (size > MAX_PAYLOAD_BYTES) {
      return { ok: false, id: null, error: `${what} is ${size} bytes; the limit is ${MAX_PAYLOAD_BYTES}` };
    }
    let text: string;
    try {
      text = typeof payload === 'string' ? payload : decoder.decode(payload);
    } catch {
      return { ok: false, id: null, error: `${what} is not valid UTF-8` };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { ok: false, id: null, error: `${what} is not valid JSON: ${(err as Error).message}` };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, id: null, error: `${what} must be a JSON object` };
    }
    if (!checker.Check(value)) {
      return {
        ok: false,
        id: readId(value),
        error: `invalid ${what}: ${describeErrors(schema, checker, value)}`,
      };
    }
    const problem = refine?.(value as Static<T>);
    if (problem !== undefined) return { ok: false, id: readId(value), error: `invalid ${what}: ${problem}` };
    return { ok: true, value: value as Static<T> };
  };
}

/** The schema's pattern allows any 1-5 digit port; 0 and 65536-99999 would fail only at the camera. */
function checkTarget(command: ControlCommand): string | undefined {
  if (command.target === undefined) return undefined;
  try {
    parseUdpTarget(command.target);
    return undefined;
  } catch (err) {
    return `target ${(err as Error).message.replace(/^invalid UDP target /, '')}`;
  }
}

export const parseControlCommand: (payload: Uint8Array | string) => ParseResult<ControlCommand> = makeParser(
  ControlCommandSchema,
  'control command',
  checkTarget,
);
export const parseCameraStatus: (payload: Uint8Array | string) => ParseResult<CameraStatus> = makeParser(
  CameraStatusSchema,
  'camera status',
);
export const parseCommandEvent: (payload: Uint8Array | string) => ParseResult<CommandEvent> = makeParser(
  CommandEventSchema,
  'command event',
);
