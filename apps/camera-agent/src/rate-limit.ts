/** Lets through at most `limit` events per window; counts the rest so the log can say how many. */
import { systemClock, type Clock } from '@camstream/runtime';

export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  #windowStart = -Infinity;
  #count = 0;
  #suppressed = 0;

  constructor(limit: number, windowMs: number, clock: Clock = systemClock) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#clock = clock;
  }

  /**
   * Whether this event may be logged. When a new window opens, `suppressed` says how many events
   * the previous windows swallowed (so the caller can log "N lines suppressed" once).
   */
  take(): { allowed: boolean; suppressed: number } {
    const now = this.#clock.now();
    let suppressed = 0;
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#count = 0;
      suppressed = this.#suppressed;
      this.#suppressed = 0;
    }
    if (this.#count < this.#limit) {
      this.#count++;
      return { allowed: true, suppressed };
    }
    this.#suppressed++;
    return { allowed: false, suppressed };
  }
}
