/**
 * A camera that says it streams but whose video does not reach the service (a network cut between
 * them while the service restarted, a firewall that opens later) must not be given up for good after
 * one START_TIMEOUT_MS: nobody is there to start it again. After such a pickup fails, another is tried
 * later, sooner at first and then at most every `maxDelayMs`, for as long as the camera stays active
 * and nobody asked for a stop. The clock is injected so tests need no real time.
 */
export interface PickupRetryOptions {
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly setTimer?: (fn: () => void, ms: number) => NodeJS.Timeout;
  readonly clearTimer?: (timer: NodeJS.Timeout) => void;
}

export class PickupRetry {
  readonly #firstDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #setTimer: NonNullable<PickupRetryOptions['setTimer']>;
  readonly #clearTimer: NonNullable<PickupRetryOptions['clearTimer']>;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor({
    firstDelayMs = 1000,
    maxDelayMs = 30_000,
    setTimer = (fn, ms) => setTimeout(fn, ms),
    clearTimer = (timer) => clearTimeout(timer),
  }: PickupRetryOptions = {}) {
    this.#firstDelayMs = firstDelayMs;
    this.#maxDelayMs = maxDelayMs;
    this.#setTimer = setTimer;
    this.#clearTimer = clearTimer;
  }

  /** Whether a retry is waiting. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** After a failed pickup: `retry` runs once, after a delay that doubles with each failure. Returns it. */
  schedule(retry: () => void): number {
    this.cancel();
    const delayMs = Math.min(this.#maxDelayMs, this.#firstDelayMs * 2 ** this.#failures);
    this.#failures += 1;
    this.#timer = this.#setTimer(() => {
      this.#timer = undefined;
      retry();
    }, delayMs);
    this.#timer.unref?.();
    return delayMs;
  }

  /** The camera stopped, a stop was asked for, or the service is closing: no retry. */
  cancel(): void {
    if (this.#timer !== undefined) this.#clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /** The stream went live: the next failure starts from the first delay again. */
  reset(): void {
    this.cancel();
    this.#failures = 0;
  }
}
