/**
 * Home Assistant MQTT discovery (HA_DISCOVERY=true): keeps the retained discovery configs
 * (ha-payloads.ts) of every camera the service serves on the broker, configured and discovered
 * alike; clears them when a discovered camera is forgotten; publishes each streaming camera's
 * snapshot to its camera entity's topic every HA_SNAPSHOT_SECONDS; and keeps the service's own
 * availability topic (`online`, retained; `offline` its Last Will and its goodbye).
 *
 * Everything is published again on each connect: a broker restarted without persistence has
 * forgotten the retained messages.
 */
import { readFileSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import type { StreamInfo } from '@camstream/protocol';
import type { Camera } from '../cameras/camera.js';
import type { CameraRegistry } from '../cameras/registry.js';
import { LogBudget } from '../log-budget.js';
import type { MqttConnection } from './connection.js';
import {
  availabilityTopic,
  clearingMessages,
  discoveryMessages,
  snapshotTopic,
  type DiscoveryOptions,
  type RetainedMessage,
} from './ha-payloads.js';
import type { HomeAssistantConfig } from './ha-settings.js';

export interface HomeAssistantOptions {
  readonly config: HomeAssistantConfig;
  readonly connection: MqttConnection;
  readonly cameras: CameraRegistry;
  readonly logger: FastifyBaseLogger;
}

/** src/ and dist/ sit at the same depth, so this is apps/web-service/package.json from either. */
function serviceVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** The Last Will the connection must carry (MqttConnectionOptions.will), when discovery is on. */
export function homeAssistantWill(
  config: HomeAssistantConfig,
): { topic: string; payload: string } | undefined {
  return config.haDiscovery ? { topic: availabilityTopic(config.haNodeId), payload: 'offline' } : undefined;
}

export class HomeAssistantDiscovery {
  readonly #config: HomeAssistantConfig;
  readonly #connection: MqttConnection;
  readonly #cameras: CameraRegistry;
  readonly #log: FastifyBaseLogger;
  readonly #options: DiscoveryOptions;
  readonly #snapshotTimer: NodeJS.Timeout;
  /** Cameras whose snapshot is being decoded or published: one at a time each. */
  readonly #snapshotting = new Set<string>();
  /** Cameras whose stream is live: the first picture goes out when one goes live. */
  readonly #live = new Set<string>();
  readonly #failureLog = new LogBudget(1, 60_000);
  #closed = false;

  constructor({ config, connection, cameras, logger }: HomeAssistantOptions) {
    this.#config = config;
    this.#connection = connection;
    this.#cameras = cameras;
    this.#log = logger.child({ component: 'home-assistant' });
    this.#options = {
      prefix: config.haDiscoveryPrefix,
      nodeId: config.haNodeId,
      swVersion: serviceVersion(),
      publicUrl: config.haPublicUrl,
    };
    connection.on('connect', this.#onConnect);
    cameras.on('added', this.#onAdded);
    cameras.on('removed', this.#onRemoved);
    cameras.on('change', this.#onChange);
    this.#snapshotTimer = setInterval(() => this.#snapshotAll(), config.haSnapshotSeconds * 1000);
    this.#snapshotTimer.unref();
    if (connection.connected) this.#onConnect();
  }

  readonly #onConnect = (): void => {
    this.#publish({ topic: availabilityTopic(this.#config.haNodeId), payload: 'online' });
    const cameras = this.#cameras.list();
    for (const camera of cameras) this.#announce(camera);
    this.#log.info(
      { cameras: cameras.length, prefix: this.#config.haDiscoveryPrefix },
      'published the Home Assistant discovery configs',
    );
    this.#snapshotAll();
  };

  readonly #onAdded = (camera: Camera): void => {
    // While disconnected nothing is sent: the next connect announces every camera.
    if (this.#connection.connected) this.#announce(camera);
  };

  readonly #onRemoved = (cameraId: string): void => {
    this.#live.delete(cameraId);
    if (!this.#connection.connected) return;
    for (const message of clearingMessages(this.#options, cameraId)) this.#publish(message);
    this.#log.info({ cameraId }, 'a forgotten camera’s Home Assistant entities were removed');
  };

  readonly #onChange = (info: StreamInfo): void => {
    // The first picture as soon as the stream goes live, not a whole period later.
    const wasLive = this.#live.has(info.cameraId);
    if (info.state !== 'live') {
      this.#live.delete(info.cameraId);
      return;
    }
    this.#live.add(info.cameraId);
    const camera = this.#cameras.get(info.cameraId);
    if (!wasLive && camera) this.#snapshot(camera);
  };

  #announce(camera: Camera): void {
    const messages = discoveryMessages(this.#options, {
      cameraId: camera.id,
      target: camera.settings.target,
    });
    for (const message of messages) this.#publish(message);
  }

  #snapshotAll(): void {
    for (const camera of this.#cameras.list()) this.#snapshot(camera);
  }

  #snapshot(camera: Camera): void {
    const pictures = camera.pictures;
    if (this.#closed || !this.#connection.connected || !pictures?.streaming) return;
    if (this.#snapshotting.has(camera.id)) return;
    this.#snapshotting.add(camera.id);
    pictures
      .snapshot(undefined)
      .then(({ jpeg }) => {
        if (this.#closed) return;
        // Retained, so that Home Assistant shows the last picture after it restarts; QoS 0: a lost
        // picture is replaced by the next one.
        this.#connection.publish(snapshotTopic(this.#config.haNodeId, camera.id), jpeg, this.#onError, {
          qos: 0,
          retain: true,
        });
      })
      .catch((err: unknown) => this.#onError(err as Error))
      .finally(() => this.#snapshotting.delete(camera.id));
  }

  #publish({ topic, payload }: RetainedMessage): void {
    this.#connection.publish(topic, payload, this.#onError, { qos: 1, retain: true });
  }

  readonly #onError = (err: Error): void => {
    const { log, suppressedBefore } = this.#failureLog.spend();
    if (log)
      this.#log.warn(
        { err, suppressed: suppressedBefore },
        'Home Assistant: could not publish a discovery config or a snapshot',
      );
  };

  /**
   * Stops publishing and says goodbye (`offline`, retained) before the connection closes; the
   * cameras' configs stay, so their entities stay in Home Assistant, unavailable. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#snapshotTimer);
    this.#connection.off('connect', this.#onConnect);
    this.#cameras.off('added', this.#onAdded);
    this.#cameras.off('removed', this.#onRemoved);
    this.#cameras.off('change', this.#onChange);
    if (this.#connection.connected) {
      this.#publish({ topic: availabilityTopic(this.#config.haNodeId), payload: 'offline' });
    }
  }
}
