/**
 * HLS names against arbitrary input (fast-check): /hls serves a name only if it is one the plain HLS
 * output or the packager makes, and no such name can leave HLS_DIR; every name they make is served.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  initName,
  isLowLatencyName,
  isOwnedName,
  isServableName,
  newStreamId,
  parseMediaName,
  partName,
  PLAYLIST_NAME,
  segmentName,
} from '../src/outputs/names.js';
import { checkProperty } from '../../../test/helpers/fuzz.js';

/** What may never be in a name that reaches the disk or the packager. */
const UNSAFE = /[/\\\0%;?#:]|\.\.|^\.|\s/;

/** newStreamId's, with fast-check's random part instead of crypto's, so a seed replays it. */
const streamId = fc
  .tuple(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.uint8Array({ minLength: 4, maxLength: 4 }))
  .map(([now, random]) =>
    newStreamId(now).replace(/-[0-9a-f]{8}$/, `-${Buffer.from(random).toString('hex')}`),
  );
const msn = fc.integer({ min: 0, max: 9_999_999_999 });

/** Names that look like ours, and the same names broken in the ways a request might break them. */
const nearNames = fc
  .tuple(
    streamId,
    msn,
    fc.integer({ min: 0, max: 50 }),
    fc.constantFrom('', '../', './', '/', '\\', '..\\', '%2e%2e/', '.', 'sub/'),
    fc.constantFrom('', '.tmp', '/', '/..', '\0', '%00', ';x', '?x', '#x', ' ', '~', '.bak'),
  )
  .chain(([id, sequence, part, before, after]) =>
    fc
      .constantFrom(
        PLAYLIST_NAME,
        `${id}-${String(sequence).padStart(5, '0')}.ts`,
        segmentName(id, sequence),
        partName(id, sequence, part),
        initName(id),
      )
      .map((name) => `${before}${name}${after}`),
  );

const anyName = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom(...'./\\%0a-_~:;mtsu38'.split('')), maxLength: 40 }),
  nearNames,
);

describe('HLS names, fuzzed', () => {
  test('a name /hls would serve (plain or LL) is one of ours: no separator, no dot segment, bounded', () => {
    checkProperty(
      fc.property(anyName, (name) => {
        const servable = isServableName(name);
        const lowLatency = isLowLatencyName(name);
        if (!servable && !lowLatency) return;
        expect(name).not.toMatch(UNSAFE);
        expect(name.length).toBeLessThanOrEqual(50);
        if (servable) expect(name === PLAYLIST_NAME || /^[0-9a-z-]+\.(m4s|mp4)$/.test(name)).toBe(true);
        if (lowLatency) expect(name).toMatch(/^[0-9a-z.-]+\.(m4s|mp4)$/);
      }),
      5000,
    );
  });

  test('what the service may delete is a servable name or its .tmp, nothing else', () => {
    checkProperty(
      fc.property(anyName, (name) => {
        if (!isOwnedName(name)) return;
        expect(isServableName(name) || (name.endsWith('.tmp') && isServableName(name.slice(0, -4)))).toBe(
          true,
        );
        expect(name).not.toMatch(/[/\\\0]|\.\./);
      }),
      5000,
    );
  });

  test('every name the plain HLS output and the packager make is served, and read back as made', () => {
    checkProperty(
      fc.property(streamId, msn, fc.integer({ min: 0, max: 9999 }), (id, sequence, part) => {
        const segment = segmentName(id, sequence);
        expect(isServableName(segment)).toBe(true);
        expect(isServableName(initName(id))).toBe(true);
        expect(isOwnedName(`${segment}.tmp`)).toBe(true);
        expect(isLowLatencyName(initName(id))).toBe(true);
        expect(parseMediaName(segmentName(id, sequence))).toEqual({ streamId: id, msn: sequence });
        expect(parseMediaName(partName(id, sequence, part))).toEqual({ streamId: id, msn: sequence, part });
      }),
      2000,
    );
  });

  test('a clock before 1972 still makes names that are served', () => {
    for (const now of [0, 1, 86_400_000, 36 ** 7 - 1]) {
      const id = newStreamId(now);
      expect(isLowLatencyName(segmentName(id, 0)), id).toBe(true);
      expect(isServableName(`${id}-00000.m4s`), id).toBe(true);
    }
  });
});
