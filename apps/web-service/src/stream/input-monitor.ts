/**
 * Whether the camera's video is arriving. The segmenter reports each piece of media it writes
 * (`kick()`: a timestamp, no timer churn at 30 a second); after `silenceMs` without one the input is
 * `silent`, and the first piece after that makes it `receiving` again. One timer, re-armed lazily for
 * the time that is left. Tested with fake timers (Date and setTimeout).
 */
import { EventEmitter } from 'node:events';

export type InputState = 'receiving' | 'silent';

export interface InputMonitorEvents {
  /** Nothing arrived for `silenceMs`; `lastMediaAt` is when the last piece did (epoch ms). */
  silent: [lastMediaAt: number];
  /** Media arrives again after a silence of `silentForMs`. */
  resumed: [silentForMs: number];
}

export class InputMonitor extends EventEmitter<InputMonitorEvents> {
  readonly silenceMs: number;
  #running = false;
  #state: InputState = 'receiving';
  #since = 0;
  #lastMediaAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor({ silenceMs }: { silenceMs: number }) {
    super();
    if (!(silenceMs > 0)) throw new RangeError(`silenceMs must be positive, got ${silenceMs}`);
    this.silenceMs = silenceMs;
  }

  get running(): boolean {
    return this.#running;
  }

  get state(): InputState {
    return this.#state;
  }

  /** When the current state began (epoch ms). */
  get since(): number {
    return this.#since;
  }

  get lastMediaAt(): number {
    return this.#lastMediaAt;
  }

  /** How long since the last media (0 while not running). */
  silentForMs(): number {
    return this.#running ? Date.now() - this.#lastMediaAt : 0;
  }

  /** Starts watching; counts as media having just arrived (a stream is live once media came). */
  start(): void {
    const now = Date.now();
    this.#running = true;
    this.#state = 'receiving';
    this.#since = now;
    this.#lastMediaAt = now;
    this.#arm(this.silenceMs);
  }

  stop(): void {
    this.#running = false;
    this.#state = 'receiving';
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  kick(): void {
    if (!this.#running) return;
    const now = Date.now();
    this.#lastMediaAt = now;
    if (this.#state === 'silent') {
      const silentFor = now - this.#since;
      this.#state = 'receiving';
      this.#since = now;
      this.#arm(this.silenceMs);
      this.emit('resumed', silentFor);
    }
  }

  #arm(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#check(), ms);
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    if (!this.#running || this.#state === 'silent') return;
    const quietFor = Date.now() - this.#lastMediaAt;
    if (quietFor < this.silenceMs) {
      this.#arm(this.silenceMs - quietFor);
      return;
    }
    this.#state = 'silent';
    this.#since = this.#lastMediaAt;
    this.emit('silent', this.#lastMediaAt);
  }
}
