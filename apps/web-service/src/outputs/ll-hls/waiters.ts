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

/** A request being held (`UpdateWaiters.hold`): what `cancel` takes. */
export interface Held {
  readonly held: true;
}

interface Waiter<T, C> extends Held {
  readonly group: Group<T>;
  readonly done: (result: WaitResult<T>, context: C) => void;
  readonly context: C;
  timer: NodeJS.Timeout | undefined;
  unwatch: (() => void) | undefined;
  /** Its answer is decided (a ready group's), to be called back in the update's microtask. */
  settled: boolean;
}

interface Group<T> {
  readonly key: string;
  /** The first waiter's check: every waiter with this key asks the same question. */
  readonly check: () => WaitResult<T> | undefined;
  readonly waiters: Set<Waiter<T, unknown>>;
}

/** A waiter's timer: a shared function with arguments, no closure per request. */
function timeOut(waiters: UpdateWaiters, held: Held): void {
  (held as Waiter<unknown, unknown>).timer = undefined;
  waiters.leave(held, { ok: false, reason: 'timeout' });
}

const ABORTED = { ok: false, reason: 'aborted' } as const;

export interface UpdateWaitersOptions {
  /**
   * Groups answered before the others in an update (the packager: playlists, a few kB each, before
   * parts of tens of kB: the cheap answers first make the wait shortest on average).
   */
  readonly first?: (key: string) => boolean;
}

export class UpdateWaiters {
  readonly #groups = new Map<string, Group<unknown>>();
  readonly #first: ((key: string) => boolean) | undefined;
  #waiting = 0;
  #unkeyed = 0;

  constructor(options: UpdateWaitersOptions = {}) {
    this.#first = options.first;
  }

  /** Requests waiting now. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Groups of requests waiting now (one per distinct key). */
  get groups(): number {
    return this.#groups.size;
  }

  /**
   * Checks each group once; every request of a group whose check answers gets that answer. The
   * requests leave at once (`waiting`, timers and watches are updated before this returns), their
   * `done` is called in one microtask after it: `notify` runs inside the packager's update, and an
   * answer must see the state that update ends in, not one half-way through it.
   */
  notify(): void {
    const ready: [Group<unknown>, WaitResult<unknown>][] = [];
    const first = this.#first;
    if (first) {
      for (const [key, group] of this.#groups) if (first(key)) this.#check(group, ready);
      for (const [key, group] of this.#groups) if (!first(key)) this.#check(group, ready);
    } else for (const group of this.#groups.values()) this.#check(group, ready);
    if (ready.length > 0) queueMicrotask(() => answer(ready));
  }

  /** Checks a group once; if it answers, all its requests leave, to be answered together. */
  #check(group: Group<unknown>, ready: [Group<unknown>, WaitResult<unknown>][]): void {
    const result = group.check();
    if (!result) return;
    this.#groups.delete(group.key);
    for (const waiter of group.waiters) this.#detach(waiter);
    ready.push([group, result]);
  }

  /**
   * `check` now: its answer if it has one (and `done` is not called). Otherwise the request is held
   * and `done(result, context)` is called once, after an update whose check answers, after
   * `timeoutMs` (`timeout`) or on `cancel` (`aborted`). Holds with the same `key` must have
   * equivalent checks (one answers for all); no key: a group of its own. `done` and `context` are
   * kept as given: a caller holding thousands of requests passes one function and a context each,
   * no closure, no promise.
   */
  hold<T, C>(
    check: () => WaitResult<T> | undefined,
    timeoutMs: number,
    key: string | undefined,
    done: (result: WaitResult<T>, context: C) => void,
    context: C,
  ): WaitResult<T> | Held {
    return check() ?? this.#enqueue(check, timeoutMs, key, done, context);
  }

  #enqueue<T, C>(
    check: () => WaitResult<T> | undefined,
    timeoutMs: number,
    key: string | undefined,
    done: (result: WaitResult<T>, context: C) => void,
    context: C,
  ): Waiter<T, C> {
    const groupKey = key ?? `\0${(this.#unkeyed += 1)}`;
    let group = this.#groups.get(groupKey) as Group<T> | undefined;
    if (!group) {
      group = { key: groupKey, check, waiters: new Set() };
      this.#groups.set(groupKey, group as Group<unknown>);
    }
    const waiter: Waiter<T, C> = {
      held: true,
      group,
      done,
      context,
      timer: undefined,
      unwatch: undefined,
      settled: false,
    };
    waiter.timer = setTimeout(timeOut, timeoutMs, this, waiter);
    group.waiters.add(waiter as Waiter<T, unknown>);
    this.#waiting += 1;
    return waiter;
  }

  /** Ends a held request now with `aborted` (its client went away); nothing if it has ended. */
  cancel(held: Held): void {
    this.leave(held, ABORTED);
  }

  /** A held request leaves its group (timeout, abort) in O(1); the group goes with its last request. */
  leave(held: Held, result: WaitResult<never>): void {
    const waiter = held as Waiter<unknown, unknown>;
    const { group } = waiter;
    if (waiter.settled || !group.waiters.delete(waiter)) return; // answered or ended already
    if (group.waiters.size === 0 && this.#groups.get(group.key) === group) this.#groups.delete(group.key);
    this.#end(waiter, result);
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
    if (watched.aborted) return Promise.resolve(ABORTED);
    return new Promise<WaitResult<T>>((resolve) => {
      const waiter = this.#enqueue(check, timeoutMs, key, settle<T>, resolve);
      waiter.unwatch = watched.watch(() => this.cancel(waiter));
    });
  }

  #end<T, C>(waiter: Waiter<T, C>, result: WaitResult<T>): void {
    this.#detach(waiter);
    waiter.done(result, waiter.context);
  }

  #detach<T, C>(waiter: Waiter<T, C>): void {
    waiter.settled = true;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.timer = undefined;
    waiter.unwatch?.();
    waiter.unwatch = undefined;
    this.#waiting -= 1;
  }
}

/** The requests of ready groups, answered in one pass (a group's set is theirs alone now). */
function answer(ready: [Group<unknown>, WaitResult<unknown>][]): void {
  for (const [group, result] of ready) {
    for (const waiter of group.waiters) waiter.done(result, waiter.context);
    group.waiters.clear();
  }
}

function settle<T>(result: WaitResult<T>, resolve: (result: WaitResult<T>) => void): void {
  resolve(result);
}
