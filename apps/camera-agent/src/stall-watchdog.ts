/**
 * Notices when data stops: `kick()` on every datagram, `onStall` once the silence reaches
 * `timeoutMs`, and again only after data has flowed in between. `kick()` only stores a timestamp,
 * so hundreds of datagrams a second cost no timer churn; the timer re-arms itself lazily.
 */
import { systemClock, type Clock, type TimerHandle } from '@camstream/runtime';

export class StallWatchdog {
  readonly #timeoutMs: number;
  readonly #onStall: (silentForMs: number) => void;
  readonly #clock: Clock;
  #lastKick = 0;
  #timer: TimerHandle | undefined;
  #stalled = false;
  #running = false;

  constructor(timeoutMs: number, onStall: (silentForMs: number) => void, clock: Clock = systemClock) {
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
    this.#timeoutMs = timeoutMs;
    this.#onStall = onStall;
    this.#clock = clock;
  }

  get stalled(): boolean {
    return this.#stalled;
  }

  /** Starts watching (counts as data having just arrived). */
  start(): void {
    this.#running = true;
    this.kick();
  }

  kick(): void {
    if (!this.#running) return;
    this.#lastKick = this.#clock.now();
    this.#stalled = false;
    this.#timer ??= this.#clock.setTimeout(() => this.#check(), this.#timeoutMs);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const silentFor = this.#clock.now() - this.#lastKick;
    if (silentFor < this.#timeoutMs) {
      this.#timer = this.#clock.setTimeout(() => this.#check(), this.#timeoutMs - silentFor);
      return;
    }
    // Stay quiet until data flows again; kick() re-arms the timer.
    this.#stalled = true;
    this.#onStall(silentFor);
  }
}
