/**
 * How often a dying segmenter may be restarted: at most `limit` times within `windowMs`. A camera
 * that sends garbage would otherwise make ffmpeg die and restart forever. The clock is injected so
 * tests need no real time.
 */
export class RestartBudget {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #restarts: number[] = [];

  constructor({ limit, windowMs, now = Date.now }: { limit: number; windowMs: number; now?: () => number }) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Records a restart and returns true, or returns false when the budget is spent. */
  take(): boolean {
    const now = this.#now();
    this.#restarts = this.#restarts.filter((at) => now - at < this.#windowMs);
    if (this.#restarts.length >= this.#limit) return false;
    this.#restarts.push(now);
    return true;
  }

  /** A fresh stream starts with the whole budget. */
  reset(): void {
    this.#restarts = [];
  }
}
