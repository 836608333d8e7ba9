/** The bench's "settled" figure (bench/report/settle.ts), on made-up frame series. Pure. */
import { describe, expect, test } from 'vitest';
import { settledAt, settleOf, settlePercentile, type SettleResult } from '../bench/report/settle.js';

/** Frames every `step` ms from `from` to `to` (exclusive), `latency(at)` behind. */
function frames(from: number, to: number, latency: (at: number) => number, step = 33) {
  const out: { at: number; latencyMs: number }[] = [];
  for (let at = from; at < to; at += step) out.push({ at, latencyMs: latency(at) });
  return out;
}

describe('settledAt', () => {
  test('smooth and under 1 s from the first frame: settled at the first frame', () => {
    const samples = frames(1000, 11_000, () => 700);
    expect(settledAt({ samples, until: 11_000 })).toBe(1000);
  });

  test('the last frame 1 s or more behind ends the bad stretch; the next frame settles', () => {
    // Latency falls from 1.5 s to 0.7 s over the first 4 s.
    const samples = frames(1000, 11_000, (at) => (at < 5000 ? 1500 - (at - 1000) / 5 : 700));
    const last = samples.findLast((s) => s.latencyMs >= 1000)!;
    const next = samples[samples.indexOf(last) + 1]!;
    expect(settledAt({ samples, until: 11_000 })).toBe(next.at);
  });

  test('a freeze longer than 250 ms: settled at the first frame after it', () => {
    const samples = [...frames(1000, 4000, () => 700), ...frames(4300, 11_000, () => 700)];
    expect(settledAt({ samples, until: 11_000 })).toBe(4300);
    // 250 ms is not a freeze.
    const short = [...frames(1000, 4000, () => 700), ...frames(4000 - 33 + 250, 11_000, () => 700)];
    expect(settledAt({ samples: short, until: 11_000 })).toBe(1000);
  });

  test('not settled: too little clean playback left, frozen at the end, never under 1 s, no frames', () => {
    const late = [...frames(1000, 9000, () => 1200), ...frames(9000, 11_000, () => 700)];
    expect(settledAt({ samples: late, until: 11_000 })).toBeUndefined();
    expect(settledAt({ samples: frames(1000, 8000, () => 700), until: 11_000 })).toBeUndefined();
    expect(settledAt({ samples: frames(1000, 11_000, () => 1800), until: 11_000 })).toBeUndefined();
    expect(settledAt({ samples: [], until: 11_000 })).toBeUndefined();
  });
});

describe('settleOf and settlePercentile', () => {
  test('from the start, with the worst of the observation', () => {
    const samples = [...frames(1000, 4000, () => 1100), ...frames(4400, 12_000, () => 600)];
    expect(settleOf({ cycle: 1, startAt: 0, settle: { samples, until: 12_000 } })).toEqual({
      toSettled: 4400,
      observedMs: 12_000,
      longestGapMs: 4400 - samples[samples.indexOf(samples.find((s) => s.at >= 4400)!) - 1]!.at,
      maxLatencyMs: 1100,
    });
    expect(settleOf({ cycle: 1, startAt: 0 })).toBeUndefined();
  });

  test('a start that did not settle counts as longer than any', () => {
    const r = (toSettled?: number): SettleResult => ({
      observedMs: 11_000,
      ...(toSettled !== undefined && { toSettled }),
    });
    expect(settlePercentile([r(1000), r(2000), r(3000)], 50)).toBe(2000);
    expect(settlePercentile([r(1000), r(2000), r()], 50)).toBe(2000);
    expect(settlePercentile([r(1000), r(2000), r()], 95)).toBe('never');
    expect(settlePercentile([r(), r(), r(1000)], 50)).toBe('never');
    expect(settlePercentile([], 50)).toBeUndefined();
  });
});
