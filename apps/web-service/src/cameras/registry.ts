/**
 * Every camera the service serves: the default one (CAMERA_ID on UDP_LISTEN), those of CAMERAS, and
 * (CAMERA_DISCOVERY=on) those that announce themselves with a valid status on the broker. A
 * discovered camera gets the lowest free port of UDP_PORT_RANGE and is told it in its start
 * commands; once it has been offline (or its status cleared) with no stream for CAMERA_FORGET_MS it
 * is forgotten: its stream manager closed, its port and memory freed.
 */
import { EventEmitter } from 'node:events';
import { rmdir } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';
import { formatUdpTarget, parseCameraStatus, parseUdpTarget, type StreamInfo } from '@camstream/protocol';
import type { ServiceConfig } from '../config.js';
import type { RecordingStore } from '../outputs/recordings/store.js';
import { isServiceError } from '../errors.js';
import { LogBudget } from '../log-budget.js';
import type { MqttConnection } from '../mqtt/connection.js';
import { Camera } from './camera.js';
import { PortPool } from './ports.js';
import { targetFor, unservableCameraId, type CameraSettings } from './settings.js';

export interface CameraRegistryEvents {
  added: [Camera];
  removed: [cameraId: string];
  /** A camera's StreamInfo changed (its stream, its status, or its recording). */
  change: [StreamInfo];
}

export interface CameraRegistryOptions {
  readonly config: ServiceConfig;
  readonly connection: MqttConnection;
  readonly logger: FastifyBaseLogger;
  /** Every camera's recordings (RECORD_DIR); absent: none recorded. */
  readonly recordingStore?: RecordingStore;
}

export class CameraRegistry extends EventEmitter<CameraRegistryEvents> {
  readonly default: Camera;
  readonly #cameras = new Map<string, Camera>();
  readonly #config: ServiceConfig;
  readonly #connection: MqttConnection;
  readonly #recordingStore: RecordingStore | undefined;
  readonly #log: FastifyBaseLogger;
  /** The service's logger: each camera's modules name their own component. */
  readonly #rootLog: FastifyBaseLogger;
  readonly #ports: PortPool;
  readonly #forgetTimers = new Map<string, NodeJS.Timeout>();
  readonly #fullLog = new LogBudget(1, 60_000);
  readonly #unservableLog = new LogBudget(1, 60_000);
  #closing = false;

  constructor({ config, connection, logger, recordingStore }: CameraRegistryOptions) {
    super();
    this.setMaxListeners(0);
    this.#config = config;
    this.#connection = connection;
    this.#recordingStore = recordingStore;
    this.#rootLog = logger;
    this.#log = logger.child({ component: 'cameras' });
    const configured: CameraSettings[] = [
      {
        id: config.cameraId,
        listen: config.udpListen,
        sources: config.udpSources,
        target: config.cameraTarget,
        origin: 'configured',
      },
      ...(config.cameras ?? []).map((camera) => ({
        ...camera,
        target: targetFor(camera.listen, config.udpTargetHost),
        origin: 'configured' as const,
      })),
    ];
    this.#ports = new PortPool(
      config.udpPortRange,
      configured.map((camera) => parseUdpTarget(camera.listen).port),
    );
    for (const settings of configured) this.#add(settings, settings.id === config.cameraId);
    this.default = this.#cameras.get(config.cameraId)!;
    connection.on('unknown-camera', this.#onUnknownCamera);
  }

  get(cameraId: string): Camera | undefined {
    return this.#cameras.get(cameraId);
  }

  /** The default camera first, then by id. */
  list(): Camera[] {
    const others = [...this.#cameras.values()].filter((camera) => camera !== this.default);
    return [this.default, ...others.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))];
  }

  get size(): number {
    return this.#cameras.size;
  }

  #add(settings: CameraSettings, isDefault: boolean): Camera {
    const camera = new Camera({
      settings,
      isDefault,
      config: this.#config,
      connection: this.#connection,
      logger: this.#rootLog,
      ...(this.#recordingStore && { recordingStore: this.#recordingStore }),
    });
    this.#cameras.set(camera.id, camera);
    camera.on('change', (info) => {
      this.emit('change', info);
      this.#considerForgetting(camera);
    });
    camera.link.on('status', () => this.#considerForgetting(camera));
    this.emit('added', camera);
    return camera;
  }

  readonly #onUnknownCamera = (cameraId: string, payload: Buffer): void => {
    if (this.#closing || this.#cameras.has(cameraId)) return;
    // Only a camera that speaks the contract appears: garbage on a status topic creates nothing.
    if (payload.length === 0 || !parseCameraStatus(payload).ok) return;
    const unservable = unservableCameraId(cameraId);
    if (unservable !== undefined) {
      if (this.#unservableLog.spend().log)
        this.#log.warn({ cameraId }, `a camera announced itself: not served, ${unservable}`);
      return;
    }
    let port: number;
    try {
      port = this.#ports.take();
    } catch (err) {
      if (!isServiceError(err, 'WEB_ERR_PORTS_EXHAUSTED')) throw err;
      if (this.#fullLog.spend().log) {
        this.#log.warn({ cameraId, code: err.code }, `a camera announced itself: not served, ${err.message}`);
      }
      return;
    }
    const { host } = parseUdpTarget(this.#config.udpListen);
    const listen = formatUdpTarget({ host, port });
    const target = targetFor(listen, this.#config.udpTargetHost);
    const camera = this.#add(
      { id: cameraId, listen, sources: undefined, target, origin: 'discovered' },
      false,
    );
    this.#log.info({ cameraId, listen, target }, 'a camera announced itself: serving it');
    if (target === undefined) {
      this.#log.warn(
        { cameraId, listen },
        'UDP_LISTEN is a wildcard address and UDP_TARGET_HOST is unset: the camera is not told where to send',
      );
    }
    this.emit('change', camera.info());
  };

  /** A discovered camera offline (or cleared) with no stream is forgotten after CAMERA_FORGET_MS. */
  #considerForgetting(camera: Camera): void {
    if (camera.settings.origin !== 'discovered' || this.#closing) return;
    const status = camera.link.status;
    const gone = (status === null || status.state === 'offline') && camera.streams.state === 'idle';
    const timer = this.#forgetTimers.get(camera.id);
    if (!gone) {
      clearTimeout(timer);
      this.#forgetTimers.delete(camera.id);
      return;
    }
    if (timer) return;
    const forget = setTimeout(() => void this.#forget(camera), this.#config.cameraForgetMs);
    forget.unref();
    this.#forgetTimers.set(camera.id, forget);
  }

  async #forget(camera: Camera): Promise<void> {
    this.#forgetTimers.delete(camera.id);
    if (this.#cameras.get(camera.id) !== camera) return;
    this.#cameras.delete(camera.id);
    this.#log.info(
      { cameraId: camera.id, afterMs: this.#config.cameraForgetMs },
      'a discovered camera stayed offline: forgotten',
    );
    await camera.close();
    this.#ports.release(parseUdpTarget(camera.settings.listen).port);
    // Its plain HLS folder, if it is empty (only names the segmenter makes were ever removed).
    await rmdir(camera.hlsDir).catch(() => {});
    this.emit('removed', camera.id);
  }

  /** Shutdown, first step: every camera refuses starts and answers held requests. */
  refuseNewWork(): void {
    this.#closing = true;
    this.#connection.off('unknown-camera', this.#onUnknownCamera);
    for (const timer of this.#forgetTimers.values()) clearTimeout(timer);
    this.#forgetTimers.clear();
    for (const camera of this.#cameras.values()) camera.refuseNewWork();
  }

  /** Stops every camera's stream, all at once. Idempotent. */
  async close(): Promise<void> {
    this.refuseNewWork();
    await Promise.all([...this.#cameras.values()].map((camera) => camera.close()));
  }
}
