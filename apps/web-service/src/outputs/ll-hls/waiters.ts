/**
 * Requests that wait for the packager (a blocking playlist reload, the preload-hinted part): checked
 * again on every update, never by polling, and ended by their answer, a timeout or an abort.
 *
 * A thousand viewers hold two thousand requests, nearly all for the same few things (the next
 * playlist version, the hinted part). Requests that wait for the same thing share a key and form one
 * group: an update checks each group once and answers all its requests in one pass; a request that
 * ends on its own (timeout, abort) leaves its group in O(1).
 */

export type WaitResult<T> = { ok: true; value: T } | { ok: false; reason: 'timeout' | 'gone' | 'aborted' };

/**
 * What ends a wait early: an AbortSignal, or anything cheaper that says the same (routes/hls.ts
 * watches the response's `close`, without an AbortController per request).
 */
export interface Abandonable {
  readonly aborted: boolean;
  /** Calls `listener` once if abandoned later; returns what stops watching. */
  watch(listener: () => void): () => void;
}

/** An AbortSignal as an Abandonable. */
export function fromSignal(signal: AbortSignal): Abandonable {
  return {
    get aborted() {
      return signal.aborted;
    },
    watch(listener) {
      signal.addEventListener('abort', listener, { once: true });
      return () => signal.removeEventListener('abort', listener);
    },
  };
}

interface Waiter<T> {
  readonly resolve: (result: WaitResult<T>) => void;
  timer: NodeJS.Timeout | undefined;
  unwatch: (() => void) | undefined;
}

interface Group<T> {
  /** The first waiter's check: every waiter with this key asks the same question. */
  readonly check: () => WaitResult<T> | undefined;
  readonly waiters: Set<Waiter<T>>;
}

export class UpdateWaiters {
  readonly #groups = new Map<string, Group<unknown>>();
  #waiting = 0;
  #unkeyed = 0;

  /** Requests waiting now. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Groups of requests waiting now (one per distinct key). */
  get groups(): number {
    return this.#groups.size;
  }

  /** Checks each group once; every request of a group whose check answers gets that answer. */
  notify(): void {
    for (const [key, group] of this.#groups) {
      const result = group.check();
      if (!result) continue;
      this.#groups.delete(key);
      for (const waiter of group.waiters) this.#end(waiter, result as WaitResult<never>);
    }
  }

  /**
   * `check` now and after each update until it answers; undefined from it means "not yet". Waits
   * with the same `key` must have equivalent checks (one answers for all); no key: a group of its own.
   */
  waitUntil<T>(
    check: () => WaitResult<T> | undefined,
    abandon: AbortSignal | Abandonable,
    timeoutMs: number,
    key?: string,
  ): Promise<WaitResult<T>> {
    const immediate = check();
    if (immediate) return Promise.resolve(immediate);
    const watched = abandon instanceof AbortSignal ? fromSignal(abandon) : abandon;
    if (watched.aborted) return Promise.resolve({ ok: false, reason: 'aborted' });
    const groupKey = key ?? `\0${(this.#unkeyed += 1)}`;
    let group = this.#groups.get(groupKey) as Group<T> | undefined;
    if (!group) {
      group = { check, waiters: new Set() };
      this.#groups.set(groupKey, group as Group<unknown>);
    }
    const waiters = group.waiters;
    this.#waiting += 1;
    return new Promise((resolve) => {
      const waiter: Waiter<T> = { resolve, timer: undefined, unwatch: undefined };
      const leave = (result: WaitResult<T>) => {
        waiters.delete(waiter);
        if (waiters.size === 0 && this.#groups.get(groupKey)?.waiters === waiters)
          this.#groups.delete(groupKey);
        this.#end(waiter, result);
      };
      waiter.timer = setTimeout(() => leave({ ok: false, reason: 'timeout' }), timeoutMs);
      waiter.unwatch = watched.watch(() => leave({ ok: false, reason: 'aborted' }));
      waiters.add(waiter);
    });
  }

  #end<T>(waiter: Waiter<T>, result: WaitResult<T>): void {
    if (waiter.timer === undefined) return; // ended already
    clearTimeout(waiter.timer);
    waiter.timer = undefined;
    waiter.unwatch?.();
    waiter.unwatch = undefined;
    this.#waiting -= 1;
    waiter.resolve(result);
  }
}
