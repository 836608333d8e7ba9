/**
 * The stream: the camera's UDP port (the ingest) open from start to stop, one remuxer at a time fed
 * by it (remuxer-runs.ts), its media fanned out to the camera's outputs (outputs/), start and stop
 * serialized, concurrent starts sharing one wait. It knows the outputs only as a fan-out and one
 * `PlayableOutput` to wait for.
 * Streams started at the camera (a control event published straight to the broker) are picked up
 * from its status, and torn down when the camera stops (camera-pickup.ts). The pure rules are in
 * stream-state.ts.
 */
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { STREAM_URL, type CameraStatus, type StreamInfo, type StreamState } from '@camstream/protocol';
import type { ServiceConfig } from '../config.js';
import { createError, type ServiceError } from '../errors.js';
import { UdpIngest, type IngestLike } from '../ingest/udp-ingest.js';
import { FfmpegRemuxer, type RemuxerOptions } from '../ingest/remuxer.js';
import { Fanout } from '../outputs/fanout.js';
import { createOutputs, type CameraOutputs } from '../outputs/index.js';
import type { PlayableOutput } from '../outputs/output.js';
import { CameraPickup } from './camera-pickup.js';
import { InputMonitor } from './input-monitor.js';
import type { PickupRetryOptions } from './pickup-retry.js';
import { asServiceError, RemuxerRuns } from './remuxer-runs.js';
import { untilPlayable, type CameraLinkLike, type RemuxerLike } from './until-playable.js';
import {
  canTransition,
  describeStream,
  refuseApiStart,
  STOP_CAMERA_AFTER,
  type Origin,
} from './stream-state.js';

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
    | 'hlsMode'
    | 'hlsPartMs'
    | 'hlsSegmentSeconds'
    | 'hlsListSize'
    | 'ffmpegPath'
  >;
  readonly link: CameraLinkLike;
  readonly logger: FastifyBaseLogger;
  /** The camera's outputs; default: outputs/index.ts createOutputs (per HLS_MODE, files in HLS_DIR). */
  readonly outputs?: Pick<CameraOutputs, 'playable' | 'all'>;
  /** The camera's UDP port; default: a UdpIngest on UDP_LISTEN. Tests replace it here. */
  readonly ingest?: IngestLike;
  /** Tests replace ffmpeg here. */
  readonly createRemuxer?: (options: RemuxerOptions) => RemuxerLike;
  /** Where the stream is served and how the camera is known, for info(); default: the first contract's. */
  readonly describe?: { readonly streamUrl: string } & Pick<StreamInfo, 'ingest' | 'origin'>;
  /** How soon a failed pickup of an active camera is tried again (pickup-retry.ts); tests shorten it. */
  readonly pickupRetry?: PickupRetryOptions;
}

export class StreamManager extends EventEmitter<{ change: [StreamInfo] }> {
  readonly #config: StreamManagerOptions['config'];
  readonly #describe: NonNullable<StreamManagerOptions['describe']>;
  readonly #link: CameraLinkLike;
  readonly #log: FastifyBaseLogger;
  readonly #playable: PlayableOutput;
  readonly #fanout: Fanout;
  readonly #ingest: IngestLike;
  readonly #runs: RemuxerRuns;
  readonly #input: InputMonitor;
  #state: StreamState = 'idle';
  #lastError: { code: string; message: string } | undefined;
  #startWait: Promise<void> | undefined;
  /** Aborts the start or restart that is waiting for a playable playlist. */
  #inflight: AbortController | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Counts stop requests, so a start queued before a stop does not run after it. */
  #stops = 0;
  readonly #pickup: CameraPickup;
  readonly #onStatus = (status: CameraStatus | null) => this.#pickup.onCameraStatus(status);

  constructor(options: StreamManagerOptions) {
    super();
    this.#config = options.config;
    this.#describe = options.describe ?? { streamUrl: STREAM_URL };
    this.#link = options.link;
    this.#log = options.logger.child({ component: 'stream' });
    const outputs =
      options.outputs ??
      createOutputs({ config: options.config, hlsDir: options.config.hlsDir, logger: this.#log });
    this.#playable = outputs.playable;
    this.#fanout = new Fanout(outputs.all, { logger: this.#log });
    this.#ingest =
      options.ingest ??
      new UdpIngest({
        listen: options.config.udpListen,
        sources: options.config.udpSources ?? [],
        logger: options.logger,
      });
    this.#runs = new RemuxerRuns({
      config: options.config,
      ingest: this.#ingest,
      fanout: this.#fanout,
      playable: this.#playable,
      createRemuxer: options.createRemuxer ?? ((o) => new FfmpegRemuxer(o)),
      log: this.#log,
      stream: {
        enqueue: (operation) => this.#enqueue(operation),
        isLive: () => this.#state === 'live' && !this.#closing,
        fail: (error) => void this.#fail(error),
        media: () => this.#input.kick(),
      },
    });
    this.#input = new InputMonitor({ silenceMs: options.config.inputSilenceMs });
    this.#pickup = new CameraPickup({
      cameraId: options.config.cameraId,
      link: this.#link,
      log: this.#log,
      retry: options.pickupRetry,
      stream: {
        state: () => this.#state,
        closing: () => this.#closing,
        videoArriving: () => this.#input.running && this.#input.state === 'receiving',
        enqueue: (operation) => this.#enqueue(operation),
        start: () => this.#shareStart('camera'),
        abortStart: (error) => this.#inflight?.abort(error),
        end: (offline) => this.#endStream(offline),
        changed: () => this.#emitChange(),
      },
    });
    this.#input.on('silent', (lastMediaAt) => this.#onSilent(lastMediaAt));
    this.#input.on('resumed', (silentForMs) => {
      this.#log.info({ silentForMs }, 'video from the camera arrives again');
      this.#emitChange();
    });
    this.#link.on('status', this.#onStatus);
    if (this.#link.status) this.#pickup.onCameraStatus(this.#link.status);
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
      hlsMode: this.#playable.mode,
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

  /** Tells the camera to stop, stops the remuxer and clears the outputs. Cancels a start. */
  stop(): Promise<void> {
    if (this.#closing) return this.close();
    this.#stops += 1; // cancels starts still queued behind another operation
    this.#pickup.cancel();
    this.#inflight?.abort(createError('WEB_ERR_START_CANCELLED', 'a stop was requested'));
    return this.#enqueue(async () => {
      this.#link.publishCommand('stop');
      this.#pickup.commanded('stop');
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
    this.#pickup.cancel();
    this.#link.off('status', this.#onStatus);
    this.#inflight?.abort(createError('WEB_ERR_SHUTTING_DOWN'));
    this.#fanout.refuseNewWork();
  }

  /** Per output: frames dropped because it was too slow, and deliveries that failed (metrics). */
  outputStats(): ReturnType<Fanout['stats']> {
    return this.#fanout.stats();
  }

  /**
   * Shutdown: refuses new work, stops the remuxer and clears the outputs. The camera is not told
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
    const refusal = origin === 'api' ? refuseApiStart(this.#link, this.#config.cameraId) : undefined;
    if (refusal) throw this.#fail(refusal);

    this.#setState('starting');
    this.#pickup.starting();
    this.#runs.reset();
    const controller = new AbortController();
    this.#inflight = controller;
    let commandId: string | undefined;
    try {
      await this.#fanout.clear();
      // The port is open before the camera starts, so its first keyframe is not lost; a stream
      // started at the camera is joined while it runs (from its next keyframe).
      await this.#ingest.open();
      const remuxer = await this.#runs.spawn({ restart: false });
      if (origin === 'api') {
        commandId = this.#link.publishCommand('start', this.#config.cameraTarget);
        this.#pickup.commanded('start');
      }
      await untilPlayable({
        output: this.#playable,
        link: this.#link,
        config: this.#config,
        remuxer,
        signal: controller.signal,
        commandId,
      });
      this.#lastError = undefined;
      this.#input.start();
      this.#pickup.live();
      this.#setState('live');
    } catch (err) {
      const error = asServiceError(err);
      this.#log.warn({ code: error.code, origin }, `start failed: ${error.message}`);
      if (commandId !== undefined && STOP_CAMERA_AFTER.includes(error.code)) {
        this.#link.publishCommand('stop');
        this.#pickup.commanded('stop');
      }
      await this.#teardown();
      this.#pickup.startFailed(origin, error);
      throw this.#fail(error);
    } finally {
      if (this.#inflight === controller) this.#inflight = undefined;
    }
  }

  /** Stops the remuxer and clears the outputs; idle afterwards. Runs inside the queue. */
  async #teardown(): Promise<void> {
    this.#input.stop();
    if (this.#state !== 'idle') this.#setState('stopping');
    await Promise.all([this.#runs.stop(), this.#ingest.close()]);
    await this.#fanout.clear();
    if (this.#state !== 'idle') this.#setState('idle');
    this.#pickup.tornDown();
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
    // The outputs end what they were making and go on after a discontinuity when the video is back.
    else this.#fanout.gap({ reason: `no video for ${this.#input.silenceMs} ms` });
  }
}
