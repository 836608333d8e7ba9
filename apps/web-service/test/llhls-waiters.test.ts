/**
 * UpdateWaiters (outputs/ll-hls/waiters.ts): held requests with the same key are one group, checked
 * once per update and answered together; a request that times out or is abandoned leaves its group
 * alone; an Abandonable is watched only by requests that wait.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import {
  UpdateWaiters,
  type Abandonable,
  type Held,
  type WaitResult,
} from '../src/outputs/ll-hls/waiters.js';

/** An Abandonable that counts how often it is watched and can be abandoned by the test. */
function abandonable(): Abandonable & { abandon(): void; watched: number; watching: number } {
  const listeners = new Set<() => void>();
  return {
    aborted: false,
    watched: 0,
    get watching() {
      return listeners.size;
    },
    watch(listener) {
      this.watched += 1;
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    abandon() {
      for (const listener of [...listeners]) listener();
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('UpdateWaiters', () => {
  test('a thousand requests for the same thing: one check per update, all answered in one pass', async () => {
    vi.useFakeTimers();
    const waiters = new UpdateWaiters();
    let ready = false;
    let checks = 0;
    const check = (): WaitResult<string> | undefined => {
      checks += 1;
      return ready ? { ok: true, value: 'v' } : undefined;
    };
    const gone = abandonable();
    const held = Array.from({ length: 1000 }, () => waiters.waitUntil(check, gone, 3000, 'next'));
    expect(checks).toBe(1000); // each asks once as it arrives
    expect(waiters.waiting).toBe(1000);
    expect(waiters.groups).toBe(1);
    expect(gone.watching).toBe(1000);

    checks = 0;
    waiters.notify(); // not yet
    expect(checks).toBe(1);
    ready = true;
    waiters.notify();
    expect(checks).toBe(2);
    expect(waiters.waiting).toBe(0);
    expect(waiters.groups).toBe(0);
    expect(gone.watching).toBe(0); // nothing left listening
    expect(vi.getTimerCount()).toBe(0); // nor any timer
    const results = await Promise.all(held);
    expect(results.every((r) => r.ok && r.value === 'v')).toBe(true);
  });

  test('groups with different keys are answered each by its own check', async () => {
    const waiters = new UpdateWaiters();
    const made = new Set<string>();
    const waitFor = (name: string) =>
      waiters.waitUntil(
        () => (made.has(name) ? { ok: true, value: name } : undefined),
        abandonable(),
        3000,
        name,
      );
    const a = [waitFor('a'), waitFor('a')];
    const b = waitFor('b');
    expect(waiters.groups).toBe(2);
    made.add('a');
    waiters.notify();
    expect(await Promise.all(a)).toEqual([
      { ok: true, value: 'a' },
      { ok: true, value: 'a' },
    ]);
    expect(waiters.waiting).toBe(1);
    made.add('b');
    waiters.notify();
    expect(await b).toEqual({ ok: true, value: 'b' });
    expect(waiters.groups).toBe(0);
  });

  test('a timeout or an abandonment ends that request only; the group goes with its last request', async () => {
    vi.useFakeTimers();
    const waiters = new UpdateWaiters();
    let ready = false;
    const check = (): WaitResult<number> | undefined => (ready ? { ok: true, value: 1 } : undefined);
    const leaving = abandonable();
    const staying = abandonable();
    const abandoned = waiters.waitUntil(check, leaving, 3000, 'k');
    await vi.advanceTimersByTimeAsync(1000);
    const late = waiters.waitUntil(check, staying, 3000, 'k');
    const timedOut = waiters.waitUntil(check, staying, 500, 'k');
    leaving.abandon();
    expect(await abandoned).toEqual({ ok: false, reason: 'aborted' });
    await vi.advanceTimersByTimeAsync(500);
    expect(await timedOut).toEqual({ ok: false, reason: 'timeout' });
    expect(waiters.waiting).toBe(1);
    expect(waiters.groups).toBe(1);
    ready = true;
    waiters.notify();
    expect(await late).toEqual({ ok: true, value: 1 });
    expect(waiters.groups).toBe(0);
    expect(staying.watching).toBe(0);

    // The last request of a group times out: the group is gone, a new one starts afresh.
    ready = false;
    const alone = waiters.waitUntil(check, staying, 100, 'k');
    await vi.advanceTimersByTimeAsync(100);
    expect(await alone).toEqual({ ok: false, reason: 'timeout' });
    expect(waiters.groups).toBe(0);
    expect(waiters.waiting).toBe(0);
  });

  test('an answer at once, or an abandoned request: nothing is watched, no timer set', async () => {
    vi.useFakeTimers();
    const waiters = new UpdateWaiters();
    const gone = abandonable();
    expect(await waiters.waitUntil(() => ({ ok: true, value: 0 }), gone, 3000, 'k')).toEqual({
      ok: true,
      value: 0,
    });
    const already = { ...abandonable(), aborted: true };
    expect(await waiters.waitUntil(() => undefined, already, 3000, 'k')).toEqual({
      ok: false,
      reason: 'aborted',
    });
    expect(gone.watched).toBe(0);
    expect(already.watched).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(waiters.groups).toBe(0);
  });

  test('an AbortSignal works as before; requests without a key are groups of their own', async () => {
    const waiters = new UpdateWaiters();
    const controller = new AbortController();
    let checks = 0;
    const check = () => {
      checks += 1;
      return undefined;
    };
    const one = waiters.waitUntil(check, controller.signal, 3000);
    const two = waiters.waitUntil(check, controller.signal, 3000);
    expect(waiters.groups).toBe(2);
    checks = 0;
    waiters.notify();
    expect(checks).toBe(2);
    controller.abort();
    expect(await one).toEqual({ ok: false, reason: 'aborted' });
    expect(await two).toEqual({ ok: false, reason: 'aborted' });
    expect(waiters.waiting).toBe(0);
  });

  test('groups marked `first` are answered before the others, whatever order they came in', async () => {
    const waiters = new UpdateWaiters({ first: (key) => key.startsWith('small') });
    const order: string[] = [];
    const hold = (key: string) =>
      waiters.hold(
        () => (ready ? { ok: true, value: key } : undefined),
        3000,
        key,
        (r) => {
          if (r.ok) order.push(r.value);
        },
        undefined,
      );
    let ready = false;
    hold('big 1');
    hold('small 1');
    hold('big 2');
    hold('small 2');
    ready = true;
    waiters.notify();
    // The requests have left at once; their answers come in one microtask after the update.
    expect(waiters.waiting).toBe(0);
    expect(order).toEqual([]);
    await Promise.resolve();
    expect(order).toEqual(['small 1', 'small 2', 'big 1', 'big 2']);
    expect(waiters.waiting).toBe(0);
  });

  test('hold: an answer at once is returned, not called back; cancel ends a held request once', () => {
    vi.useFakeTimers();
    const waiters = new UpdateWaiters();
    const ended: string[] = [];
    const done = (result: WaitResult<number>, context: string) =>
      ended.push(`${context}: ${result.ok ? result.value : result.reason}`);
    expect(waiters.hold(() => ({ ok: true, value: 1 }), 3000, 'k', done, 'now')).toEqual({
      ok: true,
      value: 1,
    });
    const held = waiters.hold(() => undefined, 3000, 'k', done, 'held');
    expect('held' in held).toBe(true);
    waiters.cancel(held as Held);
    waiters.cancel(held as Held);
    expect(ended).toEqual(['held: aborted']);
    expect(waiters.groups).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
