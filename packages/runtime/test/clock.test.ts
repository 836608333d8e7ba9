import { describe, expect, test, vi } from 'vitest';
import { systemClock, unrefClock } from '../src/index.js';

describe('clocks', () => {
  test("unrefClock's timers do not hold the process open; systemClock's do", () => {
    const held = systemClock.setTimeout(() => {}, 60_000);
    const loose = unrefClock.setTimeout(() => {}, 60_000);
    try {
      expect(held.hasRef()).toBe(true);
      expect(loose.hasRef()).toBe(false);
    } finally {
      systemClock.clearTimeout(held);
      unrefClock.clearTimeout(loose);
    }
  });

  test('both use the timers installed when they are called (fake timers in tests)', () => {
    vi.useFakeTimers();
    try {
      const fired: string[] = [];
      systemClock.setTimeout(() => fired.push('system'), 100);
      unrefClock.setTimeout(() => fired.push('unref'), 200);
      vi.advanceTimersByTime(200);
      expect(fired).toEqual(['system', 'unref']);
      expect(unrefClock.now()).toBe(Date.now());
    } finally {
      vi.useRealTimers();
    }
  });
});
