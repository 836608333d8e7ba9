import { describe, expect, test, vi } from 'vitest';
import { PickupRetry } from '../src/stream/pickup-retry.js';

describe('PickupRetry', () => {
  test('delays double from the first to the cap; reset starts over; cancel runs nothing', () => {
    vi.useFakeTimers();
    try {
      const retry = new PickupRetry({ firstDelayMs: 1000, maxDelayMs: 5000 });
      const runs: number[] = [];
      const delays = [1, 2, 3, 4, 5].map(() => {
        const delay = retry.schedule(() => runs.push(Date.now()));
        expect(retry.pending).toBe(true);
        vi.advanceTimersByTime(delay - 1);
        const before = runs.length;
        vi.advanceTimersByTime(1);
        expect(runs).toHaveLength(before + 1);
        expect(retry.pending).toBe(false);
        return delay;
      });
      expect(delays).toEqual([1000, 2000, 4000, 5000, 5000]);

      retry.reset();
      expect(retry.schedule(() => runs.push(Date.now()))).toBe(1000);
      retry.cancel();
      expect(retry.pending).toBe(false);
      vi.advanceTimersByTime(60_000);
      expect(runs).toHaveLength(5);
    } finally {
      vi.useRealTimers();
    }
  });

  test('a second schedule replaces the first: one retry at a time', () => {
    vi.useFakeTimers();
    try {
      const retry = new PickupRetry({ firstDelayMs: 100 });
      let runs = 0;
      retry.schedule(() => (runs += 1));
      retry.schedule(() => (runs += 1));
      vi.advanceTimersByTime(10_000);
      expect(runs).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
