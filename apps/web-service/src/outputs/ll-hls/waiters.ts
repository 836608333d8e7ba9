/**
 * Requests that wait for the packager (a blocking playlist reload, the preload-hinted part): each is
 * checked again on every update, never by polling, and ends on its answer, a timeout or an abort.
 */
import { EventEmitter } from 'node:events';

export type WaitResult<T> = { ok: true; value: T } | { ok: false; reason: 'timeout' | 'gone' | 'aborted' };

export class UpdateWaiters {
  readonly #updates = new EventEmitter();
  #waiting = 0;

  constructor() {
    this.#updates.setMaxListeners(0);
  }

  /** Requests waiting now. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Wakes every waiting request to check again. */
  notify(): void {
    this.#updates.emit('update');
  }

  /** `check` now and after each update until it answers; undefined from it means "not yet". */
  waitUntil<T>(
    check: () => WaitResult<T> | undefined,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<WaitResult<T>> {
    const immediate = check();
    if (immediate) return Promise.resolve(immediate);
    if (signal.aborted) return Promise.resolve({ ok: false, reason: 'aborted' });
    this.#waiting += 1;
    return new Promise((resolve) => {
      const finish = (result: WaitResult<T>) => {
        clearTimeout(timer);
        this.#updates.off('update', onUpdate);
        signal.removeEventListener('abort', onAbort);
        this.#waiting -= 1;
        resolve(result);
      };
      const onUpdate = () => {
        const result = check();
        if (result) finish(result);
      };
      const onAbort = () => finish({ ok: false, reason: 'aborted' });
      const timer = setTimeout(() => finish({ ok: false, reason: 'timeout' }), timeoutMs);
      this.#updates.on('update', onUpdate);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
