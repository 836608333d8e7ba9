import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { RateLimiter } from '../src/rate-limit.js';
import { StallWatchdog } from '../src/stall-watchdog.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('StallWatchdog', () => {
  test('reports a stall once the silence reaches the timeout', () => {
    const onStall = vi.fn();
    const watchdog = new StallWatchdog(5000, onStall);
    watchdog.start();
    vi.advanceTimersByTime(4999);
    expect(onStall).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onStall).toHaveBeenCalledExactlyOnceWith(5000);
    expect(watchdog.stalled).toBe(true);
  });

  test('each datagram pushes the deadline back', () => {
    const onStall = vi.fn();
    const watchdog = new StallWatchdog(1000, onStall);
    watchdog.start();
    for (let i = 0; i < 50; i++) {
      vi.advanceTimersByTime(900);
      watchdog.kick();
    }
    expect(onStall).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(onStall).toHaveBeenCalledOnce();
  });

  test('one report per silence; data flowing again re-arms it', () => {
    const onStall = vi.fn();
    const watchdog = new StallWatchdog(1000, onStall);
    watchdog.start();
    vi.advanceTimersByTime(10_000);
    expect(onStall).toHaveBeenCalledOnce();
    watchdog.kick();
    expect(watchdog.stalled).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(onStall).toHaveBeenCalledTimes(2);
  });

  test('kicks cost no timer churn: one pending timer however many datagrams', () => {
    const watchdog = new StallWatchdog(1000, () => {});
    watchdog.start();
    for (let i = 0; i < 1000; i++) watchdog.kick();
    expect(vi.getTimerCount()).toBe(1);
  });

  test('stop() ends watching; kicks before start() do nothing', () => {
    const onStall = vi.fn();
    const watchdog = new StallWatchdog(1000, onStall);
    watchdog.kick();
    expect(vi.getTimerCount()).toBe(0);
    watchdog.start();
    watchdog.stop();
    vi.advanceTimersByTime(5000);
    expect(onStall).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  test('the timeout must be positive', () => {
    expect(() => new StallWatchdog(0, () => {})).toThrow(RangeError);
  });
});

describe('RateLimiter', () => {
  test('lets `limit` events through per window and counts the rest', () => {
    const limiter = new RateLimiter(2, 1000);
    expect([limiter.take(), limiter.take(), limiter.take(), limiter.take()].map((t) => t.allowed)).toEqual([
      true,
      true,
      false,
      false,
    ]);
    vi.advanceTimersByTime(1000);
    expect(limiter.take()).toEqual({ allowed: true, suppressed: 2 });
    expect(limiter.take()).toEqual({ allowed: true, suppressed: 0 });
  });
});
