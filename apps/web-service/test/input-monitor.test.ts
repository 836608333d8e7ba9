/** InputMonitor with fake timers: silent after `silenceMs` without media, receiving at the next piece. */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { InputMonitor } from '../src/stream/input-monitor.js';

describe('InputMonitor', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('receiving while media comes; silent once none came for silenceMs; receiving again at the next', () => {
    const monitor = new InputMonitor({ silenceMs: 2000 });
    const events: string[] = [];
    monitor.on('silent', (last) => events.push(`silent since ${last}`));
    monitor.on('resumed', (ms) => events.push(`resumed after ${ms}`));
    monitor.start();
    for (let i = 0; i < 100; i += 1) {
      vi.advanceTimersByTime(33);
      monitor.kick();
    }
    expect(monitor.state).toBe('receiving');
    const last = Date.now();
    vi.advanceTimersByTime(1999);
    expect(monitor.state).toBe('receiving');
    expect(monitor.silentForMs()).toBe(1999);
    vi.advanceTimersByTime(1);
    expect(monitor.state).toBe('silent');
    expect(monitor.since).toBe(last);
    vi.advanceTimersByTime(3000); // one event per silence
    monitor.kick();
    expect(monitor.state).toBe('receiving');
    expect(monitor.since).toBe(Date.now());
    expect(events).toEqual([`silent since ${last}`, 'resumed after 5000']);
  });

  test('one timer, re-armed for what is left: a kick just before the deadline defers it', () => {
    const monitor = new InputMonitor({ silenceMs: 1000 });
    const silent = vi.fn();
    monitor.on('silent', silent);
    monitor.start();
    vi.advanceTimersByTime(900);
    monitor.kick();
    vi.advanceTimersByTime(900);
    expect(silent).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(silent).toHaveBeenCalledOnce();
  });

  test('stopped: no events, kicks ignored, no timer left', () => {
    const monitor = new InputMonitor({ silenceMs: 500 });
    const silent = vi.fn();
    monitor.on('silent', silent);
    monitor.kick();
    expect(monitor.running).toBe(false);
    monitor.start();
    monitor.stop();
    vi.advanceTimersByTime(5000);
    expect(silent).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    expect(monitor.silentForMs()).toBe(0);
    expect(() => new InputMonitor({ silenceMs: 0 })).toThrow(RangeError);
  });
});
