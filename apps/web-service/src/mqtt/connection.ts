/**
 * The service's one connection to the MQTT broker (mqtt.js v5, MQTT 3.1.1), shared by every camera.
 * It subscribes on every connect (with a clean session the broker forgets subscriptions), hands each
 * message on `cameras/<id>/status|events` to that camera's link, and reports the cameras it hears of
 * that have no link yet (discovery).
 *
 * With discovery on it subscribes to `cameras/+/status` and `cameras/+/events`; otherwise to the
 * topics of each attached camera only. Never both: overlapping subscriptions may deliver a message
 * twice.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { connect, type MqttClient } from 'mqtt';
import {
  cameraTopics,
  describeMqttError,
  mqttConnectionState,
  parseCameraTopic,
  type TopicKind,
} from '@camstream/protocol';
import { tlsOptions, type MqttTlsFiles } from './settings.js';

export interface MqttConnectionOptions {
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** PEM files for mqtts:// (CA, client certificate and key). */
  readonly tls?: MqttTlsFiles | undefined;
  /** Subscribe to every camera's status and events, and report unknown cameras ('unknown-camera'). */
  readonly discovery: boolean;
  readonly logger: FastifyBaseLogger;
  /** Delay between reconnection attempts. */
  readonly reconnectPeriodMs?: number;
  /** The Last Will: published (retained) by the broker if the service vanishes without a goodbye. */
  readonly will?: { readonly topic: string; readonly payload: string } | undefined;
}

export interface PublishOptions {
  /** Default 1. */
  readonly qos?: 0 | 1;
  /** Default false: commands are never retained (the contract). */
  readonly retain?: boolean;
}

/** What a camera's link receives. `retained`: the broker's stored copy, not a live message. */
export type CameraMessageHandler = (
  kind: Exclude<TopicKind, 'control'>,
  payload: Buffer,
  retained: boolean,
) => void;

export interface MqttConnectionEvents {
  connect: [];
  /** Subscribed to the topics (after each connect, and after each attach while connected). */
  subscribed: [];
  disconnect: [];
  /** A status arrived for a camera with no link attached (discovery only). */
  'unknown-camera': [cameraId: string, payload: Buffer, retained: boolean];
}

const DISCOVERY_TOPICS = ['cameras/+/status', 'cameras/+/events'];

export class MqttConnection extends EventEmitter<MqttConnectionEvents> {
  /** The broker URL without credentials, for messages. */
  readonly brokerUrl: string;
  readonly discovery: boolean;
  readonly #client: MqttClient;
  readonly #log: FastifyBaseLogger;
  readonly #handlers = new Map<string, CameraMessageHandler>();
  #subscribed = false;
  #lastError = '';
  #closing: Promise<void> | undefined;

  constructor(options: MqttConnectionOptions) {
    super();
    // One listener per camera link, and there may be hundreds of cameras.
    this.setMaxListeners(0);
    this.discovery = options.discovery;
    this.#log = options.logger.child({ mqtt: 'connection' });
    const url = new URL(options.url);
    url.username = '';
    url.password = '';
    this.brokerUrl = url.toString();
    this.#client = connect(options.url, {
      protocolVersion: 4,
      clean: true,
      clientId: `camstream-web-${randomBytes(6).toString('hex')}`,
      reconnectPeriod: options.reconnectPeriodMs ?? 1000,
      connectTimeout: 5000,
      // A refusal (wrong password, not authorized) is retried too: the service stays up and connects
      // once the broker's users are fixed. The log says it once (see 'error' below).
      reconnectOnConnackError: true,
      // Subscribing is done on every 'connect' below, so mqtt.js need not resubscribe too.
      resubscribe: false,
      ...(options.username !== undefined && { username: options.username }),
      ...(options.password !== undefined && { password: options.password }),
      ...(options.tls && tlsOptions(options.tls)),
      ...(options.will && { will: { ...options.will, qos: 1, retain: true } }),
    });
    this.#client.on('connect', () => this.#onConnect());
    this.#client.on('close', () => {
      this.#subscribed = false;
      if (this.#closing) return;
      this.emit('disconnect');
    });
    this.#client.on('error', (err) => {
      // Reconnection repeats the same error every period: log it once until something changes.
      // A sentence that names the setting to check (wrong CA, expired certificate, bad password);
      // it never holds the password.
      if (err.message !== this.#lastError) {
        const described = describeMqttError(
          err,
          `the MQTT broker at ${url.host}`,
          mqttConnectionState(this.#client.stream),
        );
        this.#log.warn({ url: this.brokerUrl, kind: described.kind }, described.message);
      }
      this.#lastError = err.message;
    });
    this.#client.on('message', (topic, payload, packet) => this.#onMessage(topic, payload, packet.retain));
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  /** Subscribed to the topics since the last connect. */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  /** Routes a camera's messages to `handler`; subscribes to its topics unless discovery covers them. */
  attach(cameraId: string, handler: CameraMessageHandler): void {
    if (this.#handlers.has(cameraId)) throw new Error(`camera ${cameraId} is already attached`);
    this.#handlers.set(cameraId, handler);
    if (!this.discovery && this.#client.connected) this.#subscribe(this.#topicsOf(cameraId));
  }

  detach(cameraId: string): void {
    if (!this.#handlers.delete(cameraId)) return;
    if (!this.discovery && this.#client.connected && !this.#closing) {
      this.#client.unsubscribe(this.#topicsOf(cameraId), (err) => {
        if (err) this.#log.warn({ err, cameraId }, 'could not unsubscribe from a camera’s topics');
      });
    }
  }

  publish(
    topic: string,
    payload: string | Buffer,
    onError: (err: Error) => void,
    { qos = 1, retain = false }: PublishOptions = {},
  ): void {
    this.#client.publish(topic, payload, { qos, retain }, (err) => {
      if (err) onError(err);
    });
  }

  #topicsOf(cameraId: string): string[] {
    const topics = cameraTopics(cameraId);
    return [topics.status, topics.events];
  }

  #onConnect(): void {
    this.#lastError = '';
    this.#log.info({ url: this.brokerUrl }, 'connected to the MQTT broker');
    this.emit('connect');
    const topics = this.discovery
      ? DISCOVERY_TOPICS
      : [...this.#handlers.keys()].flatMap((id) => this.#topicsOf(id));
    this.#subscribe(topics);
  }

  #subscribe(topics: string[]): void {
    if (topics.length === 0) {
      this.#subscribed = true;
      this.emit('subscribed');
      return;
    }
    this.#client.subscribe(topics, { qos: 1 }, (err) => {
      if (err) {
        this.#log.error({ err, topics }, 'could not subscribe to the camera topics');
        return;
      }
      this.#subscribed = true;
      this.emit('subscribed');
    });
  }

  #onMessage(topic: string, payload: Buffer, retained: boolean): void {
    const parsed = parseCameraTopic(topic);
    if (!parsed || parsed.kind === 'control') return;
    if (!this.#handlers.has(parsed.cameraId) && this.discovery && parsed.kind === 'status') {
      // The registry may attach a link for it now; that link then gets this very status.
      this.emit('unknown-camera', parsed.cameraId, payload, retained);
    }
    this.#handlers.get(parsed.cameraId)?.(parsed.kind, payload, retained);
  }

  /** Resolves once subscribed after the first connect; rejects on abort. */
  whenSubscribed(signal: AbortSignal): Promise<void> {
    if (this.#subscribed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.off('subscribed', onSubscribed);
        reject(signal.reason);
      };
      const onSubscribed = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      signal.throwIfAborted();
      signal.addEventListener('abort', onAbort, { once: true });
      this.once('subscribed', onSubscribed);
    });
  }

  /** Sends what is in flight (a last `stop`, say) for up to `graceMs`, then disconnects. Idempotent. */
  close(graceMs = 2000): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#client.end(true, () => resolve()), graceMs);
      this.#client.end(false, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.#closing;
  }
}
