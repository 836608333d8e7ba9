/**
 * The recordings' variables (RECORD, RECORD_DIR, RECORD_MAX_SECONDS, RECORD_KEEP_DAYS, RECORD_MIN_FREE),
 * kept here so that config.ts only spreads them into its table; config.ts is still the one module that
 * reads them.
 */
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { integer, oneOf, type Parser } from '../../config-parsers.js';

/** RECORD_MAX_SECONDS's default, and the recorder's when it is not given one (an hour). */
export const MAX_RECORDING_MS = 3_600_000;

export const RECORD_MODES = ['off', 'on-demand', 'always'] as const;
export type RecordMode = (typeof RECORD_MODES)[number];

/** Free space to keep on RECORD_DIR's file system: bytes, or a share of its size. */
export type MinFree = { readonly bytes: number } | { readonly percent: number };

export interface RecordingsConfig {
  /** off: never; on-demand: a start with `"record": true`; always: every stream. */
  readonly record: RecordMode;
  /** Recordings go to RECORD_DIR/<camera>/<YYYY-MM-DD>/<HH-MM-SS.mmm>Z/. */
  readonly recordDir: string;
  /** A recording this long ends at its next segment's end and the next begins at once (an hour). */
  readonly recordMaxSeconds: number;
  /** Recordings older than this many days are deleted; 0: kept whatever their age. */
  readonly recordKeepDays: number;
  /** While free space is under this, the oldest recordings are deleted. */
  readonly recordMinFree: MinFree;
}

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/** `1GiB`, `500MB`, `2000000000` (bytes), or `10%` of the file system. */
export const parseMinFree: Parser<MinFree> = (raw) => {
  const percent = /^(\d{1,2}(?:\.\d+)?|100)%$/.exec(raw);
  if (percent) return { percent: Number(percent[1]) };
  const size = /^(\d+(?:\.\d+)?) ?([A-Za-z]{0,3})$/.exec(raw);
  const unit = size ? UNITS[size[2]!.toUpperCase()] : undefined;
  if (!size || unit === undefined) {
    throw new Error('must be a size (bytes, or with KB, MB, GB, KiB, MiB, GiB…) or a percentage (10%)');
  }
  return { bytes: Math.round(Number(size[1]) * unit) };
};

/** Spread into config.ts's VARIABLES, in the order the README documents them. */
export const RECORDINGS_VARIABLES = {
  RECORD: {
    key: 'record',
    description:
      'off: no recordings; on-demand: a start with {"record": true} records that stream; always: every stream is recorded',
    default: 'off',
    parse: oneOf(RECORD_MODES),
  },
  RECORD_DIR: {
    key: 'recordDir',
    description:
      'folder of the recordings: <camera>/<YYYY-MM-DD>/<start time>/ with a playlist, init segment and fMP4 segments',
    default: join(tmpdir(), 'camstream-recordings'),
    parse: (raw: string) => (isAbsolute(raw) ? raw : resolve(raw)),
  },
  RECORD_MAX_SECONDS: {
    key: 'recordMaxSeconds',
    description:
      'a recording that has run this long ends at its next segment’s end (a keyframe) and the next begins at once, so a stream that never stops is kept as files of this length',
    default: String(MAX_RECORDING_MS / 1000),
    parse: integer(10, 86_400),
  },
  RECORD_KEEP_DAYS: {
    key: 'recordKeepDays',
    description:
      'recordings older than this many days are deleted (checked at boot and every minute); 0: kept',
    default: '7',
    parse: integer(0, 36_500),
  },
  RECORD_MIN_FREE: {
    key: 'recordMinFree',
    description:
      'while RECORD_DIR’s file system has less free space than this (1GiB, 500MB, or 10%), the oldest recordings are deleted',
    default: '1GiB',
    parse: parseMinFree,
  },
} as const;
