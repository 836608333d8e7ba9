/**
 * The camera's remuxer runs, for the stream manager: one ffmpeg at a time, fed by the UDP ingest, its
 * fMP4 parsed once by a media reader into the camera's fan-out. A remuxer that dies while live is
 * replaced (at once, or after a growing delay when it keeps dying); the outputs see the old run
 * `end` and the new one `init` with `restart: true`, and go on after a discontinuity.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { RestartBackoff } from '@camstream/runtime';
import type { ServiceConfig } from '../config.js';
import { createError, ServiceError } from '../errors.js';
import { MediaReader } from '../ingest/media-reader.js';
import type { RemuxerExit, RemuxerOptions } from '../ingest/remuxer.js';
import type { IngestLike } from '../ingest/udp-ingest.js';
import type { Fanout } from '../outputs/fanout.js';
import { newStreamId } from '../outputs/names.js';
import type { PlayableOutput } from '../outputs/output.js';
import { RestartBudget } from './restart-budget.js';
import type { RemuxerLike } from './until-playable.js';

/** The longest wait before restarting a remuxer that keeps crashing. */
const MAX_RESTART_DELAY_MS = 30_000;

export const asServiceError = (err: unknown): ServiceError =>
  err instanceof ServiceError ? err : createError('WEB_ERR_INTERNAL', (err as Error).message ?? String(err));

export interface RemuxerRunsOptions {
  readonly config: Pick<ServiceConfig, 'ffmpegPath'>;
  readonly ingest: IngestLike;
  readonly fanout: Fanout;
  readonly playable: PlayableOutput;
  readonly createRemuxer: (options: RemuxerOptions) => RemuxerLike;
  readonly log: FastifyBaseLogger;
  /** What the runs need of the stream manager. */
  readonly stream: {
    /** Runs `operation` in the manager's queue (after the start or stop under way). */
    enqueue<T>(operation: () => Promise<T>): Promise<T>;
    /** Replacements happen only while live and not shutting down. */
    isLive(): boolean;
    /** A replacement failed for good, for now: shown as lastError. */
    fail(error: ServiceError): void;
    /** The run wrote media. */
    media(): void;
  };
}

interface Run {
  readonly remuxer: RemuxerLike;
  readonly reader: MediaReader;
}

export class RemuxerRuns {
  readonly #options: RemuxerRunsOptions;
  readonly #log: FastifyBaseLogger;
  readonly #restarts = new RestartBudget({ limit: 3, windowMs: 60_000 });
  #run: Run | undefined;
  /** A replacement under way (its delay, its wait for the video); `stop()` aborts it. */
  #replacement: AbortController | undefined;
  /** The delay once the budget is spent: 1, 2, 4… up to 30 s, from 1 s again after a budgeted restart. */
  readonly #backoff = new RestartBackoff({ initialMs: 1000, maxMs: MAX_RESTART_DELAY_MS });

  constructor(options: RemuxerRunsOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  /** A fresh stream: the whole restart budget. */
  reset(): void {
    this.#restarts.reset();
    this.#backoff.reset();
  }

  /** Spawns a remuxer and feeds it the ingest once it runs. */
  async spawn({ restart }: { restart: boolean }): Promise<RemuxerLike> {
    const { fanout, ingest, createRemuxer, config, stream } = this.#options;
    const streamId = newStreamId();
    const reader = new MediaReader({ streamId, restart, sink: fanout });
    const remuxer = createRemuxer({
      ffmpegPath: config.ffmpegPath,
      streamId,
      logger: this.#log,
      onMedia: (chunk) => reader.push(chunk),
    });
    this.#run = { remuxer, reader };
    remuxer.on('died', (exit) => this.#onDied(remuxer, exit));
    remuxer.on('media', () => {
      if (this.#run?.remuxer === remuxer) stream.media();
    });
    await remuxer.start();
    if (this.#run?.remuxer === remuxer) ingest.setSink((chunk) => remuxer.write(chunk));
    return remuxer;
  }

  /** Ends the current run: the ingest unhooked, ffmpeg stopped (its last frames delivered), the outputs told. */
  async stop(): Promise<void> {
    this.#replacement?.abort();
    await this.#end();
  }

  async #end(): Promise<void> {
    const run = this.#run;
    this.#run = undefined; // its exit is asked for, not a death to restart from
    this.#options.ingest.setSink(undefined);
    if (!run) return;
    await run.remuxer.close();
    run.reader.close();
    this.#options.fanout.end({ streamId: run.remuxer.streamId });
  }

  #onDied(remuxer: RemuxerLike, exit: RemuxerExit): void {
    // While starting, untilPlayable sees the exit itself; after a stop nothing is left to do.
    if (this.#run?.remuxer !== remuxer || !this.#options.stream.isLive()) return;
    this.#replace(`it died (${exit.reason})`);
  }

  /**
   * A remuxer that crashes again and again (garbage on the UDP port can do that) is restarted after
   * 1, 2, 4… up to 30 s once more than three crashes fall within a minute; never given up on while
   * the stream is live, so that no one has to press Start again. The delay is recorded as lastError.
   */
  #restartDelayMs(): number {
    if (this.#restarts.take()) {
      this.#backoff.reset();
      return 0;
    }
    return this.#backoff.failed();
  }

  /** Replaces the live remuxer (at once, or after a delay); the outputs go on after a discontinuity. */
  #replace(reason: string): void {
    const delayMs = this.#restartDelayMs();
    if (delayMs > 0) {
      const message = `${reason}; it keeps failing, trying again in ${delayMs / 1000} s`;
      this.#log.error({ delayMs }, `segmenter: ${message}`);
      this.#options.stream.fail(createError('WEB_ERR_SEGMENTER_FAILED', message));
    } else {
      this.#log.warn({ reason }, 'restarting the segmenter');
    }
    const replacement = new AbortController(); // aborted by stop()
    this.#replacement?.abort();
    this.#replacement = replacement;
    const { signal } = replacement;
    void (async () => {
      if (delayMs > 0) await sleep(delayMs, undefined, { signal }).catch(() => {});
      if (signal.aborted) return;
      const next = await this.#options.stream.enqueue(() => this.#respawn(signal));
      if (next) await this.#whenPlayableAgain(next, signal, reason);
    })().catch((err: unknown) => this.#log.error({ err }, 'could not restart the segmenter'));
  }

  /** Inside the manager's queue: the old remuxer stopped, a new one listening for the camera. */
  async #respawn(signal: AbortSignal): Promise<RemuxerLike | undefined> {
    if (signal.aborted || !this.#options.stream.isLive()) return undefined;
    await this.#end();
    try {
      return await this.spawn({ restart: true });
    } catch (err) {
      this.#replace(`it could not start (${asServiceError(err).message})`);
      return undefined;
    }
  }

  /**
   * Outside the queue, so that a stop is not held up, and without START_TIMEOUT_MS (the camera may
   * be back in a minute): ends with the stream, or with this remuxer (which is then replaced).
   */
  async #whenPlayableAgain(next: RemuxerLike, signal: AbortSignal, reason: string): Promise<void> {
    const wait = new AbortController();
    signal.addEventListener('abort', () => wait.abort(), { once: true });
    void next.exited().then(() => wait.abort());
    try {
      await this.#options.playable.waitUntilPlayable(next.streamId, wait.signal);
    } catch {
      return;
    }
    if (this.#run?.remuxer !== next) return;
    this.#options.stream.media(); // a playable run had media, whether or not it has reported it yet
    this.#log.info({ streamId: next.streamId, reason }, 'segmenter restarted');
  }
}
