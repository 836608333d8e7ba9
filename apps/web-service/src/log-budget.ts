/**
 * A budget for noisy log sources (ffmpeg prints a warning per corrupt packet; a rogue MQTT client may
 * publish garbage a thousand times a second): `limit` lines per `windowMs`, the rest counted. When a
 * window with suppressed lines has passed, `spend()` hands back their count once, for a summary line.
 */
export class LogBudget {
  readonly #limit: number;
  readonly #windowMs: number;
  #windowStart = -Infinity;
  #spent = 0;
  #suppressed = 0;

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** `log`: write this line; `suppressedBefore`: lines swallowed since the last summary. */
  spend(now = Date.now()): { log: boolean; suppressedBefore: number } {
    let suppressedBefore = 0;
    if (now - this.#windowStart >= this.#windowMs) {
      suppressedBefore = this.#suppressed;
      this.#suppressed = 0;
      this.#windowStart = now;
      this.#spent = 0;
    }
    if (this.#spent < this.#limit) {
      this.#spent += 1;
      return { log: true, suppressedBefore };
    }
    this.#suppressed += 1;
    return { log: false, suppressedBefore };
  }
}
