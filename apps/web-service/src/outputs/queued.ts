/**
 * One output behind its own bounded queue, so that it can never hold up the ingest or another
 * output. A delivery goes straight through (synchronously, no copy, no timer) while the output is
 * idle; an output that returns a promise is busy until it settles, and what comes meanwhile waits
 * here in order. When more than `maxFrames` frames wait, the output is behind a live stream: the
 * waiting frames and the new ones up to the next keyframe are dropped (counted), and the output gets a
 * `gap` before that keyframe. `begin`, `init`, `gap` and
 * `end` are never dropped. A throw or a rejection is logged (within a budget) and counted; the output goes on
 * with the next delivery.
 */
import type { FastifyBaseLogger } from 'fastify';
import { LogBudget } from '../log-budget.js';
import type { Delivery, MediaEnd, MediaFrame, MediaGap, MediaInit, MediaRun, Output } from './output.js';

type Item =
  | { readonly kind: 'begin'; readonly value: MediaRun }
  | { readonly kind: 'init'; readonly value: MediaInit }
  | { readonly kind: 'frame'; readonly value: MediaFrame }
  | { readonly kind: 'gap'; readonly value: MediaGap }
  | { readonly kind: 'end'; readonly value: MediaEnd };

export interface QueuedOutputOptions {
  /** Frames that may wait for a busy output before frames are dropped. Default 150 (5 s at 30 fps). */
  readonly maxFrames?: number;
  readonly logger: FastifyBaseLogger;
}

export interface OutputStats {
  /** Frames this output never got because it was too slow. */
  readonly droppedFrames: number;
  /** Deliveries that threw or rejected. */
  readonly errors: number;
  /** Frames waiting now. */
  readonly queuedFrames: number;
  /** A delivery is under way (the output returned a promise that has not settled). */
  readonly busy: boolean;
}

export class QueuedOutput {
  readonly output: Output;
  readonly #maxFrames: number;
  readonly #log: FastifyBaseLogger;
  readonly #logBudget = new LogBudget(5, 10_000);
  #queue: Item[] = [];
  #queuedFrames = 0;
  /** The promise of the delivery under way, if the output is busy. */
  #busy: Promise<void> | undefined;
  #dropping = false;
  #droppedFrames = 0;
  #errors = 0;
  /** Bumped by clear(): deliveries settling after it do not drain the queue of before. */
  #generation = 0;

  constructor(output: Output, { maxFrames = 150, logger }: QueuedOutputOptions) {
    this.output = output;
    this.#maxFrames = maxFrames;
    this.#log = logger.child({ output: output.name });
  }

  stats(): OutputStats {
    return {
      droppedFrames: this.#droppedFrames,
      errors: this.#errors,
      queuedFrames: this.#queuedFrames,
      busy: this.#busy !== undefined,
    };
  }

  begin(value: MediaRun): void {
    if (this.output.begin) this.#offer({ kind: 'begin', value });
  }

  init(value: MediaInit): void {
    this.#dropping = false; // a new run starts on a keyframe
    this.#offer({ kind: 'init', value });
  }

  frame(value: MediaFrame): void {
    if (this.#dropping) {
      if (!value.keyframe) {
        this.#droppedFrames += 1;
        return;
      }
      this.#dropping = false;
      this.#offer({ kind: 'gap', value: { reason: 'the output fell behind: frames were dropped' } });
    } else if (this.#queuedFrames >= this.#maxFrames) {
      // Stale by now: what waits goes too (init, gap and end stay), so it resumes at the live edge.
      const queuedFrames = this.#queuedFrames;
      this.#queue = this.#queue.filter((item) => item.kind !== 'frame');
      this.#droppedFrames += queuedFrames + 1;
      this.#queuedFrames = 0;
      this.#dropping = true;
      if (this.#logBudget.spend().log) {
        this.#log.warn({ queuedFrames }, 'output too slow: dropping to the next keyframe');
      }
      return;
    }
    if (this.#busy || this.#queue.length > 0) {
      this.#offer({ kind: 'frame', value });
      return;
    }
    // The common case, at 30 frames a second and more: straight through, nothing allocated here.
    let result: Delivery;
    try {
      result = this.output.frame(value);
    } catch (err) {
      this.#failed(err, 'frame');
      return;
    }
    if (result) this.#wait(result, 'frame');
  }

  gap(value: MediaGap): void {
    this.#offer({ kind: 'gap', value });
  }

  end(value: MediaEnd): void {
    this.#offer({ kind: 'end', value });
  }

  /** Forgets what waits, lets the delivery under way finish, then clears the output. */
  async clear(): Promise<void> {
    this.#generation += 1;
    this.#queue = [];
    this.#queuedFrames = 0;
    this.#dropping = false;
    await this.#busy;
    this.#busy = undefined;
    await this.output.clear();
  }

  #offer(item: Item): void {
    if (this.#busy || this.#queue.length > 0) {
      this.#queue.push(item);
      if (item.kind === 'frame') this.#queuedFrames += 1;
      return;
    }
    this.#deliver(item);
  }

  #deliver(item: Item): void {
    let result: Delivery;
    try {
      result = this.#call(item);
    } catch (err) {
      this.#failed(err, item.kind);
      return;
    }
    if (result) this.#wait(result, item.kind);
  }

  /** The output is busy until `result` settles; then what waits is delivered. */
  #wait(result: Promise<void>, kind: Item['kind']): void {
    const generation = this.#generation;
    this.#busy = result.then(
      () => this.#settled(generation),
      (err: unknown) => {
        this.#failed(err, kind);
        this.#settled(generation);
      },
    );
  }

  #call(item: Item): Delivery {
    switch (item.kind) {
      case 'begin':
        return this.output.begin?.(item.value);
      case 'init':
        return this.output.init(item.value);
      case 'frame':
        return this.output.frame(item.value);
      case 'gap':
        return this.output.gap(item.value);
      case 'end':
        return this.output.end(item.value);
    }
  }

  #settled(generation: number): void {
    if (generation !== this.#generation) return;
    this.#busy = undefined;
    while (!this.#busy && this.#queue.length > 0) {
      const item = this.#queue.shift()!;
      if (item.kind === 'frame') this.#queuedFrames -= 1;
      this.#deliver(item);
    }
  }

  #failed(err: unknown, kind: Item['kind']): void {
    this.#errors += 1;
    const { log, suppressedBefore } = this.#logBudget.spend();
    if (log) this.#log.error({ err, delivery: kind, suppressedBefore }, 'output failed; the others go on');
  }
}
