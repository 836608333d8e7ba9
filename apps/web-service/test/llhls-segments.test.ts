/** The pure listing rules of llhls/segments.ts on hand-made segments. */
import { describe, expect, test } from 'vitest';
import { listedEntries, type Segment } from '../src/outputs/ll-hls/segments.js';

const run = { streamId: 'aaaaaaaaaaaaaaaa', init: { timescale: 1000 } };

function segment(msn: number, seconds: number): Segment {
  return {
    msn,
    run,
    discontinuity: false,
    programDateTime: 0,
    parts: [{ index: 0, uri: `p${msn}`, duration: seconds, independent: true, bytes: Buffer.alloc(0) }],
    partsListable: true,
    duration: seconds * 1000,
    independent: true,
    bytes: Buffer.alloc(0),
    partsReleased: false,
  };
}

const withParts = (entries: ReturnType<typeof listedEntries>) =>
  entries.map((entry) => entry.parts !== undefined);

describe('which segments list their parts', () => {
  test('those that begin less than three target durations from the end (the open segment’s parts included)', () => {
    const segments = [1, 1, 1, 1, 1].map((s, i) => segment(i, s));
    expect(withParts(listedEntries(segments, 0, 1))).toEqual([false, false, false, true, true]);
    // The open segment's parts count from the end too.
    expect(withParts(listedEntries(segments, 0.5, 1))).toEqual([false, false, false, true, true]);
    expect(withParts(listedEntries(segments, 0.2, 1).slice(0, 3))).toEqual([false, false, false]);
  });

  test('a long segment just over three from the end still lists them when the rest reach back less than two', () => {
    // EXTINF rounds, so a 1.4 s segment fits TARGETDURATION 1: it begins 3.2 s from the end, and
    // without its parts they would reach back only 1.8 s (< 2 TD, where players start).
    const segments = [1, 1.4, 1, 0.8].map((s, i) => segment(i, s));
    expect(withParts(listedEntries(segments, 0, 1))).toEqual([false, true, true, true]);
  });
});
