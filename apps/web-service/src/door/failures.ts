/**
 * Failed authentications per client address, in fixed windows: past `max` failures an address is
 * refused (429) until its window ends, whatever it sends, so tokens cannot be guessed at speed.
 * Written here rather than with @fastify/rate-limit, which counts every request a route gets:
 * this counts only failures, and must refuse before a token is even looked at.
 */
export interface FailureLimit {
  readonly max: number;
  readonly windowMs: number;
}

export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: FailureLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until this address may try again; 0: it may now. */
  retryAfterMs(address: string): number {
    const window = this.windows.get(address);
    if (!window) return 0;
    const left = window.start + this.limit.windowMs - this.now();
    if (left <= 0) {
      this.windows.delete(address);
      return 0;
    }
    return window.count >= this.limit.max ? left : 0;
  }

  fail(address: string): void {
    const now = this.now();
    const window = this.windows.get(address);
    if (!window || now - window.start >= this.limit.windowMs) {
      // Bounded memory under a flood from many addresses: old windows go first.
      if (this.windows.size >= 100_000) this.prune(now);
      this.windows.set(address, { start: now, count: 1 });
    } else window.count += 1;
  }

  private prune(now: number): void {
    for (const [address, window] of this.windows) {
      if (now - window.start >= this.limit.windowMs) this.windows.delete(address);
    }
    if (this.windows.size >= 100_000) this.windows.clear();
  }
}
