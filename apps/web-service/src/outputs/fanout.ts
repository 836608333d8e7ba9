/**
 * The camera's fan-out: the media reader delivers each `init`, `frame`, `gap` and `end` once, here,
 * and every output gets it through its own queue (queued.ts). The stream manager holds the fan-out,
 * never the outputs themselves (outputs/index.ts makes them), so adding an output touches neither.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { MediaEnd, MediaFrame, MediaGap, MediaInit, MediaRun, Output } from './output.js';
import { QueuedOutput, type OutputStats } from './queued.js';

/** What the media reader and the stream manager deliver to. */
export interface MediaSink {
  begin(run: MediaRun): void;
  init(init: MediaInit): void;
  frame(frame: MediaFrame): void;
  gap(gap: MediaGap): void;
  end(end: MediaEnd): void;
}

export class Fanout implements MediaSink {
  readonly #outputs: QueuedOutput[];

  constructor(
    outputs: readonly Output[],
    { logger, maxFrames }: { logger: FastifyBaseLogger; maxFrames?: number },
  ) {
    this.#outputs = outputs.map(
      (output) => new QueuedOutput(output, { logger, ...(maxFrames !== undefined && { maxFrames }) }),
    );
  }

  begin(run: MediaRun): void {
    for (const output of this.#outputs) output.begin(run);
  }

  init(init: MediaInit): void {
    for (const output of this.#outputs) output.init(init);
  }

  frame(frame: MediaFrame): void {
    for (const output of this.#outputs) output.frame(frame);
  }

  gap(gap: MediaGap): void {
    for (const output of this.#outputs) output.gap(gap);
  }

  end(end: MediaEnd): void {
    for (const output of this.#outputs) output.end(end);
  }

  /** Every output cleared (what waits for it forgotten); one that fails is logged by its queue's owner. */
  async clear(): Promise<void> {
    await Promise.all(this.#outputs.map((output) => output.clear()));
  }

  refuseNewWork(): void {
    for (const { output } of this.#outputs) output.refuseNewWork?.();
  }

  /** Per output, by name (metrics). */
  stats(): { readonly name: string; readonly stats: OutputStats }[] {
    return this.#outputs.map((queued) => ({ name: queued.output.name, stats: queued.stats() }));
  }
}
