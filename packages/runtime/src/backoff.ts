/**
 * Delays before trying again something that keeps failing: by default 500 ms doubling up to 10 s (the
 * agent's encoder), back to the first delay once a run has stayed healthy for `resetAfterMs` or on
 * `reset()`. Owns at most one pending timer. Also the web service's pickup retry and remuxer restarts.
 */
import { systemClock, type Clock, type TimerHandle } from './clock.js';

export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly factor?: number;
  /** A stream healthy for this long makes the next failure start again from `initialMs`. */
  readonly resetAfterMs?: number;
  readonly clock?: Clock;
}

export class RestartBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #resetAfterMs: number;
  readonly #clock: Clock;
  #nextMs: number;
  #healthySince: number | undefined;
  #timer: TimerHandle | undefined;

  constructor({
    initialMs = 500,
    maxMs = 10_000,
    factor = 2,
    resetAfterMs = 30_000,
    clock = systemClock,
  }: BackoffOptions = {}) {
    if (!(initialMs > 0 && maxMs >= initialMs && factor >= 1 && resetAfterMs >= 0)) {
      throw new RangeError('backoff needs 0 < initialMs <= maxMs, factor >= 1, resetAfterMs >= 0');
    }
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#factor = factor;
    this.#resetAfterMs = resetAfterMs;
    this.#clock = clock;
    this.#nextMs = initialMs;
  }

  /** True while a restart is scheduled. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** The stream is flowing: from now on, a long enough run resets the delay. */
  healthy(): void {
    this.#healthySince ??= this.#clock.now();
  }

  /** Records a failure and returns the delay before the next attempt. */
  failed(): number {
    const since = this.#healthySince;
    this.#healthySince = undefined;
    if (since !== undefined && this.#clock.now() - since >= this.#resetAfterMs)
      this.#nextMs = this.#initialMs;
    const delay = this.#nextMs;
    this.#nextMs = Math.min(this.#nextMs * this.#factor, this.#maxMs);
    return delay;
  }

  /** Records a failure and runs `task` after the delay; returns the delay. Replaces a pending task. */
  schedule(task: () => void): number {
    this.cancel();
    const delay = this.failed();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      task();
    }, delay);
    return delay;
  }

  cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Forgets past failures (a person asked for a fresh start). */
  reset(): void {
    this.cancel();
    this.#nextMs = this.#initialMs;
    this.#healthySince = undefined;
  }
}
