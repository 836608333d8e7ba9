import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { RestartBackoff } from '../src/index.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RestartBackoff', () => {
  test('500 ms doubling to a 10 s ceiling', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 8 }, () => backoff.failed());
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  test('30 s of healthy streaming resets the delay', () => {
    const backoff = new RestartBackoff();
    backoff.failed();
    backoff.failed();
    backoff.failed(); // next would be 4000
    backoff.healthy();
    vi.advanceTimersByTime(30_000);
    expect(backoff.failed()).toBe(500);
  });

  test('a shorter healthy run does not reset it', () => {
    const backoff = new RestartBackoff();
    backoff.failed();
    backoff.failed();
    backoff.healthy();
    vi.advanceTimersByTime(29_999);
    expect(backoff.failed()).toBe(2000);
  });

  test('healthy() counts from the first call of a run, not the last', () => {
    const backoff = new RestartBackoff();
    backoff.failed();
    backoff.healthy();
    vi.advanceTimersByTime(20_000);
    backoff.healthy();
    vi.advanceTimersByTime(10_000);
    expect(backoff.failed()).toBe(500);
  });

  test('schedule() runs the task after the delay, and reports the delay', () => {
    const backoff = new RestartBackoff();
    const task = vi.fn();
    expect(backoff.schedule(task)).toBe(500);
    expect(backoff.pending).toBe(true);
    vi.advanceTimersByTime(499);
    expect(task).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(task).toHaveBeenCalledOnce();
    expect(backoff.pending).toBe(false);
    expect(backoff.schedule(task)).toBe(1000);
  });

  test('cancel() drops the pending task; schedule() replaces one', () => {
    const backoff = new RestartBackoff();
    const first = vi.fn();
    const second = vi.fn();
    backoff.schedule(first);
    backoff.cancel();
    vi.advanceTimersByTime(10_000);
    expect(first).not.toHaveBeenCalled();

    backoff.schedule(first);
    backoff.schedule(second);
    vi.advanceTimersByTime(60_000);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledOnce();
  });

  test('reset() cancels and starts again from the initial delay', () => {
    const backoff = new RestartBackoff();
    const task = vi.fn();
    backoff.failed();
    backoff.failed();
    backoff.schedule(task);
    backoff.reset();
    vi.advanceTimersByTime(60_000);
    expect(task).not.toHaveBeenCalled();
    expect(backoff.failed()).toBe(500);
  });

  test('custom settings, and nonsense rejected', () => {
    const backoff = new RestartBackoff({ initialMs: 100, maxMs: 250, factor: 3 });
    expect([backoff.failed(), backoff.failed(), backoff.failed()]).toEqual([100, 250, 250]);
    expect(() => new RestartBackoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new RestartBackoff({ initialMs: 500, maxMs: 100 })).toThrow(RangeError);
  });
});
