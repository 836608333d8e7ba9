/**
 * The stream: the camera's UDP port (the ingest) open from start to stop, one segmenter at a time fed
 * by it, start and stop serialized, concurrent starts sharing one wait.
 * Streams started at the camera (a control event published straight to the broker) are picked up
 * from its status, and torn down when the camera stops. The pure rules are in stream-state.ts.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { STREAM_URL, type CameraStatus, type StreamInfo, type StreamState } from '@camstream/protocol';
import type { ServiceConfig } from '../config.js';
import { createError, ServiceError, type ErrorCode } from '../errors.js';
import { UdpIngest, type IngestLike } from '../ingest/udp-ingest.js';
import { FfmpegRemuxer, type RemuxerExit, type RemuxerOptions } from '../ingest/remuxer.js';
import { newStreamId } from '../outputs/names.js';
import { FileHlsOutput, type HlsOutput } from './hls-output.js';
import { InputMonitor } from './input-monitor.js';
import { untilPlayable, type CameraLinkLike, type RemuxerLike } from './until-playable.js';
import { RestartBudget } from './restart-budget.js';
import { canTransition, describeStream, reactToCamera } from './stream-state.js';

export type { CameraLinkLike, RemuxerLike } from './until-playable.js';

export interface StreamManagerOptions {
  readonly config: Pick<
    ServiceConfig,
    | 'cameraId'
    | 'hlsDir'
    | 'udpListen'
    | 'udpSources'
    | 'cameraTarget'
    | 'startTimeoutMs'
    | 'inputSilenceMs'
    | 'hlsSegmentSeconds'
    | 'hlsListSize'
    | 'ffmpegPath'
  >;
  readonly link: CameraLinkLike;
  readonly logger: FastifyBaseLogger;
  /** Where the HLS goes (HLS_MODE); default: plain HLS files in HLS_DIR. */
  readonly output?: HlsOutput;
  /** The camera's UDP port; default: a UdpIngest on UDP_LISTEN. Tests replace it here. */
  readonly ingest?: IngestLike;
  /** Tests replace ffmpeg here. */
  readonly createRemuxer?: (options: RemuxerOptions) => RemuxerLike;
  /** Where the stream is served and how the camera is known, for info(); default: the first contract's. */
  readonly describe?: { readonly streamUrl: string } & Pick<StreamInfo, 'ingest' | 'origin'>;
}

/** Who started the stream: the service's API, or the camera on someone else's command. */
type Origin = 'api' | 'camera';

/** The longest wait before restarting a segmenter that keeps crashing. */
const MAX_RESTART_DELAY_MS = 30_000;

/** Failures after which a camera that was told to start should be told to stop again. */
const STOP_CAMERA_AFTER: readonly ErrorCode[] = [
  'WEB_ERR_MANIFEST_TIMEOUT',
  'WEB_ERR_SEGMENTER_FAILED',
  'WEB_ERR_SHUTTING_DOWN',
  'WEB_ERR_INTERNAL',
];

const asServiceError = (err: unknown): ServiceError =>
  err instanceof ServiceError ? err : createError('WEB_ERR_INTERNAL', (err as Error).message ?? String(err));

export class StreamManager extends EventEmitter<{ change: [StreamInfo] }> {
  readonly #config: StreamManagerOptions['config'];
  readonly #describe: NonNullable<StreamManagerOptions['describe']>;
  readonly #link: CameraLinkLike;
  readonly #log: FastifyBaseLogger;
  readonly #createRemuxer: (options: RemuxerOptions) => RemuxerLike;
  readonly #output: HlsOutput;
  readonly #ingest: IngestLike;
  readonly #restarts = new RestartBudget({ limit: 3, windowMs: 60_000 });
  readonly #input: InputMonitor;
  #state: StreamState = 'idle';
  #lastError: { code: string; message: string } | undefined;
  /** The current segmenter, and when it was spawned (epoch ms). */
  #run: { segmenter: RemuxerLike; spawnedAt: number } | undefined;
  #startWait: Promise<void> | undefined;
  /** Aborts the start or restart that is waiting for a playable playlist. */
  #inflight: AbortController | undefined;
  /** A segmenter replacement under way (its delay, its wait for the video); a teardown aborts it. */
  #replacement: AbortController | undefined;
  #backoffMs = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Counts stop requests, so a start queued before a stop does not run after it. */
  #stops = 0;
  #previousCamera: CameraStatus['state'] | null = null;
  #awaitingCameraStop = false;
  #activeDuringStart = false;
  readonly #onStatus = (status: CameraStatus | null) => this.#onCameraStatus(status);

  constructor(options: StreamManagerOptions) {
    super();
    this.#config = options.config;
    this.#describe = options.describe ?? { streamUrl: STREAM_URL };
    this.#link = options.link;
    this.#log = options.logger.child({ component: 'stream' });
    this.#createRemuxer = options.createRemuxer ?? ((o) => new FfmpegRemuxer(o));
    this.#output = options.output ?? new FileHlsOutput(options.config.hlsDir, this.#log);
    this.#ingest =
      options.ingest ??
      new UdpIngest({
        listen: options.config.udpListen,
        sources: options.config.udpSources ?? [],
        logger: options.logger,
      });
    this.#input = new InputMonitor({ silenceMs: options.config.inputSilenceMs });
    this.#input.on('silent', (lastMediaAt) => this.#onSilent(lastMediaAt));
    this.#input.on('resumed', (silentForMs) => {
      this.#log.info({ silentForMs }, 'video from the camera arrives again');
      this.#emitChange();
    });
    this.#link.on('status', this.#onStatus);
    if (this.#link.status) this.#onCameraStatus(this.#link.status);
  }

  get state(): StreamState {
    return this.#state;
  }

  info(): StreamInfo {
    const input = this.#input;
    return {
      ...describeStream(
        this.#state,
        this.#config.cameraId,
        this.#link.status,
        this.#lastError,
        this.#describe.streamUrl,
      ),
      hlsMode: this.#output.mode,
      ...(this.#describe.ingest !== undefined && { ingest: this.#describe.ingest }),
      ...(this.#describe.origin !== undefined && { origin: this.#describe.origin }),
      ...(this.#state === 'live' &&
        input.running && { input: { state: input.state, since: new Date(input.since).toISOString() } }),
    };
  }

  /** Resolves once the playlist is playable; at once when live. Concurrent calls share one wait. */
  start(): Promise<void> {
    if (this.#closing) return Promise.reject(createError('WEB_ERR_SHUTTING_DOWN'));
    if (this.#state === 'live') return Promise.resolve();
    return this.#shareStart('api');
  }

  /** Tells the camera to stop, stops the segmenter and removes the files. Cancels a start. */
  stop(): Promise<void> {
    if (this.#closing) return this.close();
    this.#stops += 1; // cancels starts still queued behind another operation
    this.#inflight?.abort(createError('WEB_ERR_START_CANCELLED', 'a stop was requested'));
    return this.#enqueue(async () => {
      this.#link.publishCommand('stop');
      this.#awaitingCameraStop = true;
      await this.#teardown();
    });
  }

  /**
   * First step of a shutdown: new starts fail with WEB_ERR_SHUTTING_DOWN, a start in progress is
   * cancelled (so its request can answer), streams started at the camera are no longer picked up.
   */
  refuseNewWork(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#link.off('status', this.#onStatus);
    this.#inflight?.abort(createError('WEB_ERR_SHUTTING_DOWN'));
  }

  /**
   * Shutdown: refuses new work, stops the segmenter and removes the files. The camera is not told
   * to stop: the service is going away, the user did not ask, and a restarted service picks a
   * running camera up again from its retained status. Idempotent.
   */
  close(): Promise<void> {
    this.refuseNewWork();
    this.#closed ??= this.#enqueue(() => this.#teardown());
    return this.#closed;
  }

  #shareStart(origin: Origin): Promise<void> {
    const stops = this.#stops;
    this.#startWait ??= this.#enqueue(() => this.#start(origin, stops)).finally(
      () => (this.#startWait = undefined),
    );
    return this.#startWait;
  }

  #enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => {});
    return result;
  }

  #setState(next: StreamState): void {
    if (next === this.#state) return;
    if (!canTransition(this.#state, next)) {
      throw createError('WEB_ERR_INTERNAL', `no transition from ${this.#state} to ${next}`);
    }
    this.#log.info({ from: this.#state, to: next }, 'stream state');
    this.#state = next;
    this.#emitChange();
  }

  #emitChange(): void {
    this.emit('change', this.info());
  }

  #fail(error: ServiceError): ServiceError {
    // A cancelled start is not a failure worth showing until the next start.
    if (error.code !== 'WEB_ERR_START_CANCELLED' && error.code !== 'WEB_ERR_SHUTTING_DOWN') {
      this.#lastError = { code: error.code, message: error.message };
    }
    this.#emitChange();
    return error;
  }

  async #start(origin: Origin, stopsWhenRequested: number): Promise<void> {
    if (this.#closing) throw createError('WEB_ERR_SHUTTING_DOWN');
    if (this.#stops !== stopsWhenRequested)
      throw createError('WEB_ERR_START_CANCELLED', 'a stop was requested');
    if (this.#state === 'live') return;
    const camera = this.#link.status;
    if (origin === 'api') {
      const { cameraId } = this.#config;
      if (!this.#link.connected) {
        throw this.#fail(createError('WEB_ERR_BROKER_UNAVAILABLE', this.#link.brokerUrl, cameraId));
      }
      if (camera === null || camera.state === 'offline') {
        const why = camera ? `offline since ${camera.at}` : 'never heard from';
        throw this.#fail(createError('WEB_ERR_CAMERA_OFFLINE', cameraId, why));
      }
    }

    this.#setState('starting');
    this.#activeDuringStart = false;
    this.#restarts.reset();
    this.#backoffMs = 0;
    const controller = new AbortController();
    this.#inflight = controller;
    let commandId: string | undefined;
    try {
      await this.#output.clear();
      // The port is open before the camera starts, so its first keyframe is not lost; a stream
      // started at the camera is joined while it runs (from its next keyframe).
      await this.#ingest.open();
      const segmenter = await this.#spawnSegmenter({ restart: false });
      if (origin === 'api') {
        commandId = this.#link.publishCommand('start', this.#config.cameraTarget);
        this.#awaitingCameraStop = false;
      }
      await this.#untilPlayable(segmenter, controller.signal, commandId);
      this.#lastError = undefined;
      this.#input.start();
      this.#setState('live');
    } catch (err) {
      const error = asServiceError(err);
      this.#log.warn({ code: error.code, origin }, `start failed: ${error.message}`);
      if (commandId !== undefined && STOP_CAMERA_AFTER.includes(error.code)) {
        this.#link.publishCommand('stop');
        this.#awaitingCameraStop = true;
      }
      await this.#teardown();
      throw this.#fail(error);
    } finally {
      if (this.#inflight === controller) this.#inflight = undefined;
    }
  }

  async #spawnSegmenter(run: { restart: boolean }): Promise<RemuxerLike> {
    const streamId = newStreamId();
    const runOptions = await this.#output.beginRun(streamId, run);
    const segmenter = this.#createRemuxer({
      ffmpegPath: this.#config.ffmpegPath,
      hlsDir: this.#config.hlsDir,
      segmentSeconds: this.#config.hlsSegmentSeconds,
      listSize: this.#config.hlsListSize,
      streamId,
      logger: this.#log,
      ...runOptions,
    });
    this.#run = { segmenter, spawnedAt: Date.now() };
    segmenter.on('died', (exit) => this.#onSegmenterDied(segmenter, exit));
    segmenter.on('media', () => {
      if (this.#run?.segmenter === segmenter) this.#input.kick();
    });
    await segmenter.start();
    if (this.#run?.segmenter === segmenter) this.#ingest.setSink((chunk) => segmenter.write(chunk));
    return segmenter;
  }

  /** Waits for a playable playlist from this segmenter run (see untilPlayable). */
  #untilPlayable(segmenter: RemuxerLike, signal: AbortSignal, commandId?: string): Promise<void> {
    return untilPlayable({
      output: this.#output,
      link: this.#link,
      config: this.#config,
      segmenter,
      signal,
      commandId,
    });
  }

  /** Stops the segmenter and removes the files; idle afterwards. Runs inside the queue. */
  async #teardown(): Promise<void> {
    this.#input.stop();
    this.#replacement?.abort();
    if (this.#state !== 'idle') this.#setState('stopping');
    const run = this.#run;
    this.#run = undefined;
    this.#ingest.setSink(undefined);
    await Promise.all([run?.segmenter.close(), this.#ingest.close()]);
    await this.#output.clear();
    if (this.#state !== 'idle') this.#setState('idle');
  }

  #onCameraStatus(status: CameraStatus | null): void {
    const previous = this.#previousCamera;
    const next = status?.state ?? null;
    this.#previousCamera = next;
    if (next === 'idle' || next === 'offline') this.#awaitingCameraStop = false;
    if (this.#state === 'starting' && (next === 'starting' || next === 'streaming')) {
      this.#activeDuringStart = true;
    }
    const reaction = reactToCamera({
      streamState: this.#state,
      previous,
      next: status,
      awaitingCameraStop: this.#awaitingCameraStop,
      activeDuringStart: this.#activeDuringStart,
      videoArriving: this.#input.running && this.#input.state === 'receiving',
    });
    const { cameraId } = this.#config;
    switch (reaction) {
      case 'pickup':
        this.#log.info({ camera: next }, 'the camera started on its own: starting the segmenter');
        this.#shareStart('camera').catch(() => {}); // recorded in lastError by #start
        break;
      case 'abort-start-offline':
        this.#inflight?.abort(
          createError('WEB_ERR_CAMERA_OFFLINE', cameraId, 'it went offline while starting'),
        );
        break;
      case 'abort-start-stopped':
        this.#inflight?.abort(createError('WEB_ERR_START_CANCELLED', `camera ${cameraId} stopped`));
        break;
      case 'teardown':
      case 'teardown-offline':
        this.#endStream(reaction === 'teardown-offline');
        break;
      case 'keep-offline':
        // A broker restart delivers the camera's Last Will although the camera is fine: the video
        // says more than MQTT does. The stream ends if the video stops too (#onSilent).
        this.#log.warn('the camera is offline on MQTT but its video still arrives: the stream stays');
        break;
      case 'none':
        break;
    }
    this.#emitChange();
  }

  /** The camera stopped (idle), or went offline and its video stopped: remove the stream. */
  #endStream(offline: boolean): void {
    const { cameraId } = this.#config;
    this.#log.info({ offline }, 'the camera stopped: removing the stream');
    void this.#enqueue(async () => {
      if (this.#state !== 'live') return;
      if (offline) {
        this.#fail(createError('WEB_ERR_CAMERA_OFFLINE', cameraId, 'it went offline while streaming'));
      }
      await this.#teardown();
    }).catch((err: unknown) => this.#log.error({ err }, 'could not remove the stream'));
  }

  #onSilent(lastMediaAt: number): void {
    if (this.#state !== 'live') return;
    const camera = this.#link.status?.state ?? 'unknown';
    this.#log.warn(
      { camera, lastMediaAt: new Date(lastMediaAt).toISOString(), silenceMs: this.#input.silenceMs },
      'no video from the camera: the stream goes on when it comes back',
    );
    this.#emitChange();
    if (camera === 'offline') this.#endStream(true);
    // Plain HLS: ffmpeg's hls muxer would fold the silence into one long segment; a fresh segmenter
    // begins the video after it with a segment of its own, after EXT-X-DISCONTINUITY. One started
    // since the last video (replacing one that died) is fresh already, and may still be probing.
    else if (this.#output.restartAfterSilence && (this.#run?.spawnedAt ?? Infinity) < lastMediaAt) {
      this.#replaceSegmenter('no video from the camera', false);
    }
  }

  #onSegmenterDied(segmenter: RemuxerLike, exit: RemuxerExit): void {
    // While starting, #untilPlayable sees the exit itself; after teardown nothing is left to do.
    if (this.#closing || this.#run?.segmenter !== segmenter || this.#state !== 'live') return;
    this.#replaceSegmenter(`it died (${exit.reason})`, true);
  }

  /**
   * A segmenter that crashes again and again (garbage on the UDP port can do that) is restarted
   * after 1, 2, 4… up to 30 s once more than three crashes fall within a minute; never given up on
   * while the stream is live, so that no one has to press Start again. The delay is recorded as
   * lastError.
   */
  #restartDelayMs(): number {
    if (this.#restarts.take()) {
      this.#backoffMs = 0;
      return 0;
    }
    this.#backoffMs = Math.min(MAX_RESTART_DELAY_MS, Math.max(1000, this.#backoffMs * 2));
    return this.#backoffMs;
  }

  /** Replaces the live segmenter (at once, or after a delay); the playlist continues after a discontinuity. */
  #replaceSegmenter(reason: string, crashed: boolean): void {
    const delayMs = crashed ? this.#restartDelayMs() : 0;
    if (delayMs > 0) {
      const message = `${reason}; it keeps failing, trying again in ${delayMs / 1000} s`;
      this.#log.error({ delayMs }, `segmenter: ${message}`);
      this.#fail(createError('WEB_ERR_SEGMENTER_FAILED', message));
    } else {
      this.#log.warn({ reason }, 'restarting the segmenter');
    }
    const replacement = new AbortController(); // aborted by a teardown
    this.#replacement?.abort();
    this.#replacement = replacement;
    const { signal } = replacement;
    void (async () => {
      if (delayMs > 0) await sleep(delayMs, undefined, { signal }).catch(() => {});
      if (signal.aborted) return;
      const next = await this.#enqueue(() => this.#replace(signal));
      if (next) await this.#whenPlayableAgain(next, signal, reason);
    })().catch((err: unknown) => this.#log.error({ err }, 'could not restart the segmenter'));
  }

  /** Inside the queue: the old segmenter stopped, a new one listening for the camera. */
  async #replace(signal: AbortSignal): Promise<RemuxerLike | undefined> {
    if (signal.aborted || this.#state !== 'live' || this.#closing) return undefined;
    const old = this.#run;
    this.#run = undefined; // its exit is asked for, not a death to restart from
    this.#ingest.setSink(undefined);
    await old?.segmenter.close();
    try {
      return await this.#spawnSegmenter({ restart: true });
    } catch (err) {
      this.#replaceSegmenter(`it could not start (${asServiceError(err).message})`, true);
      return undefined;
    }
  }

  /**
   * Outside the queue, so that a stop is not held up, and without START_TIMEOUT_MS (the camera may
   * be back in a minute): ends with the stream, or with this segmenter (which is then replaced).
   */
  async #whenPlayableAgain(next: RemuxerLike, signal: AbortSignal, reason: string): Promise<void> {
    const wait = new AbortController();
    signal.addEventListener('abort', () => wait.abort(), { once: true });
    void next.exited().then(() => wait.abort());
    try {
      await this.#output.waitUntilPlayable(next.streamId, wait.signal);
    } catch {
      return;
    }
    if (this.#run?.segmenter !== next) return;
    this.#input.kick(); // a playable run had media, whether or not it has reported it yet
    this.#log.info({ streamId: next.streamId, reason }, 'segmenter restarted');
    await this.#output.afterRestart(next.streamId).catch((err: unknown) => {
      this.#log.warn({ err }, 'could not remove the earlier run’s segments');
    });
  }
}
