/**
 * The stream manager's answer to the camera's status: a stream started at the camera (a control event
 * published straight to the broker) is picked up, a start under way is aborted when the camera stops
 * or goes offline, a live stream is ended when the camera stops. A pickup that the service could not
 * make at once (it was starting or stopping) is made once the operation is done, and one that found
 * no video is tried again later (pickup-retry.ts). The pure rules are in stream-state.ts.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { CameraStatus, StreamState } from '@camstream/protocol';
import { createError, type ServiceError } from '../errors.js';
import { PickupRetry, type PickupRetryOptions } from './pickup-retry.js';
import { isActive, missedPickup, reactToCamera, RETRY_PICKUP_AFTER, type Origin } from './stream-state.js';
import type { CameraLinkLike } from './until-playable.js';

export interface CameraPickupOptions {
  readonly cameraId: string;
  readonly link: Pick<CameraLinkLike, 'status'>;
  readonly log: FastifyBaseLogger;
  readonly retry?: PickupRetryOptions;
  /** What the pickup needs of the stream manager. */
  readonly stream: {
    state(): StreamState;
    /** The service is shutting down: nothing is picked up any more. */
    closing(): boolean;
    /** The camera's video arrives (the input monitor runs and hears it). */
    videoArriving(): boolean;
    /** Runs `operation` in the manager's queue (after the start or stop under way). */
    enqueue(operation: () => Promise<void>): Promise<void>;
    /** A start for a stream begun at the camera (shared with a start under way). */
    start(): Promise<void>;
    /** Cancels the start that is waiting for a playable playlist, with `error`. */
    abortStart(error: ServiceError): void;
    /** The camera stopped, or went offline and its video stopped: remove the stream. */
    end(offline: boolean): void;
    /** Something GET /api/stream shows changed. */
    changed(): void;
  };
}

export class CameraPickup {
  readonly #options: CameraPickupOptions;
  readonly #stream: CameraPickupOptions['stream'];
  readonly #log: FastifyBaseLogger;
  readonly #retry: PickupRetry;
  #previousCamera: CameraStatus['state'] | null = null;
  /** The service told the camera to stop and it has not said idle or offline since. */
  #awaitingCameraStop = false;
  #activeDuringStart = false;
  /** The camera became active while the service was starting or stopping (stream-state.ts missedPickup). */
  #missedPickup = false;

  constructor(options: CameraPickupOptions) {
    this.#options = options;
    this.#stream = options.stream;
    this.#log = options.log;
    this.#retry = new PickupRetry(options.retry);
  }

  /** The service published a command to the camera. */
  commanded(action: 'start' | 'stop'): void {
    this.#awaitingCameraStop = action === 'stop';
  }

  /** A start begins: the camera's status during it is watched afresh. */
  starting(): void {
    this.#activeDuringStart = false;
  }

  /** The stream is live: nothing is left to pick up, and the next failed pickup retries from the first delay. */
  live(): void {
    this.#missedPickup = false;
    this.#retry.reset();
  }

  /** A stop was asked for, or the service is closing: no retry. */
  cancel(): void {
    this.#retry.cancel();
  }

  /** A start failed (after its teardown): a pickup that found no video is tried again later. */
  startFailed(origin: Origin, error: ServiceError): void {
    if (origin === 'camera' && RETRY_PICKUP_AFTER.includes(error.code)) this.#retryPickup();
  }

  /** The stream was torn down (inside the queue): a pickup missed meanwhile is made now, if still due. */
  tornDown(): void {
    if (!this.#missedPickup) return;
    this.#missedPickup = false;
    // Checked once the operations queued before it have run (a stop among them says no).
    this.#pickUpIfActive('the camera became active while the stream was changing: starting it');
  }

  onCameraStatus(status: CameraStatus | null): void {
    const stream = this.#stream;
    const previous = this.#previousCamera;
    const next = status?.state ?? null;
    this.#previousCamera = next;
    if (next === 'idle' || next === 'offline') this.#awaitingCameraStop = false;
    if (stream.state() === 'starting' && (next === 'starting' || next === 'streaming')) {
      this.#activeDuringStart = true;
    }
    const change = {
      streamState: stream.state(),
      previous,
      next: status,
      awaitingCameraStop: this.#awaitingCameraStop,
      activeDuringStart: this.#activeDuringStart,
      videoArriving: stream.videoArriving(),
    };
    if (!isActive(next)) {
      this.#missedPickup = false;
      this.#retry.cancel();
    } else if (missedPickup(change)) this.#missedPickup = true;
    const reaction = reactToCamera(change);
    const { cameraId } = this.#options;
    switch (reaction) {
      case 'pickup':
        this.#log.info({ camera: next }, 'the camera started on its own: starting the stream');
        stream.start().catch(() => {}); // recorded in lastError by the start
        break;
      case 'abort-start-offline':
        stream.abortStart(createError('WEB_ERR_CAMERA_OFFLINE', cameraId, 'it went offline while starting'));
        break;
      case 'abort-start-stopped':
        stream.abortStart(createError('WEB_ERR_START_CANCELLED', `camera ${cameraId} stopped`));
        break;
      case 'teardown':
      case 'teardown-offline':
        stream.end(reaction === 'teardown-offline');
        break;
      case 'keep-offline':
        // A broker restart delivers the camera's Last Will although the camera is fine: the video
        // says more than MQTT does. The stream ends if the video stops too (the manager's #onSilent).
        this.#log.warn('the camera is offline on MQTT but its video still arrives: the stream stays');
        break;
      case 'none':
        break;
    }
    stream.changed();
  }

  /** Once the operations queued before it have run (a stop among them says no): a pickup, if still due. */
  #pickUpIfActive(why: string): void {
    const stream = this.#stream;
    void stream.enqueue(async () => {
      const camera = this.#options.link.status?.state;
      if (stream.closing() || stream.state() !== 'idle' || this.#awaitingCameraStop || !isActive(camera))
        return;
      this.#log.info({ camera }, why);
      stream.start().catch(() => {}); // recorded in lastError by the start
    });
  }

  /** A pickup failed while the camera may still be streaming (its video cut off, say): try again later. */
  #retryPickup(): void {
    if (this.#stream.closing() || !isActive(this.#options.link.status?.state)) return;
    const delayMs = this.#retry.schedule(() =>
      this.#pickUpIfActive('the camera still says it streams: trying to pick its stream up again'),
    );
    this.#log.warn({ delayMs }, 'no stream from an active camera: trying again later');
  }
}
