/**
 * The service's link to the camera over MQTT (mqtt.js v5, MQTT 3.1.1): publishes commands, keeps the
 * camera's latest valid status, and hands command replies to whoever waits for them. Reconnects by
 * itself; with a clean session the broker forgets subscriptions, so they are made on every connect
 * (the retained status arrives again each time). Invalid payloads are logged and ignored.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { connect, type MqttClient } from 'mqtt';
import {
  cameraTopics,
  parseCameraStatus,
  parseCommandEvent,
  type CameraStatus,
  type CameraTopics,
  type CommandEvent,
  type ControlAction,
  type ControlCommand,
} from '@camstream/protocol';

export interface CameraLinkOptions {
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly cameraId: string;
  readonly logger: FastifyBaseLogger;
  /** Delay between reconnection attempts. */
  readonly reconnectPeriodMs?: number;
}

export interface CameraLinkEvents {
  /** A valid status arrived (null: the retained status was cleared). */
  status: [CameraStatus | null];
  /** A valid command reply arrived. */
  event: [CommandEvent];
  connect: [];
  /** Subscribed to the camera's topics (after each connect). */
  subscribed: [];
  disconnect: [];
}

/** Replies kept for callers that start waiting after the reply came; a command's id is unique. */
const RECENT_REPLIES = 64;

export class CameraLink extends EventEmitter<CameraLinkEvents> {
  readonly cameraId: string;
  readonly topics: CameraTopics;
  /** The broker URL without credentials, for messages. */
  readonly brokerUrl: string;
  readonly #client: MqttClient;
  readonly #log: FastifyBaseLogger;
  #status: CameraStatus | null = null;
  readonly #recentReplies = new Map<string, CommandEvent>();
  readonly #waiters = new Map<string, Set<(event: CommandEvent) => void>>();
  #lastError = '';
  #closing: Promise<void> | undefined;
  #subscribed = false;

  constructor(options: CameraLinkOptions) {
    super();
    this.cameraId = options.cameraId;
    this.topics = cameraTopics(options.cameraId);
    this.#log = options.logger.child({ mqtt: 'camera-link' });
    const url = new URL(options.url);
    url.username = '';
    url.password = '';
    this.brokerUrl = url.toString();
    this.#client = connect(options.url, {
      protocolVersion: 4,
      clean: true,
      clientId: `camstream-web-${options.cameraId}-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: options.reconnectPeriodMs ?? 1000,
      connectTimeout: 5000,
      // Subscribing is done on every 'connect' below, so mqtt.js need not resubscribe too.
      resubscribe: false,
      ...(options.username !== undefined && { username: options.username }),
      ...(options.password !== undefined && { password: options.password }),
    });
    this.#client.on('connect', () => this.#onConnect());
    this.#client.on('close', () => {
      if (this.#closing) return;
      this.emit('disconnect');
    });
    this.#client.on('error', (err) => {
      // Reconnection repeats the same error every period: log it once until something changes.
      if (err.message !== this.#lastError)
        this.#log.warn({ err: err.message, url: this.brokerUrl }, 'MQTT error');
      this.#lastError = err.message;
    });
    this.#client.on('message', (topic, payload) => this.#onMessage(topic, payload));
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  /** The camera's latest valid status; null until the service has heard from it. */
  get status(): CameraStatus | null {
    return this.#status;
  }

  #onConnect(): void {
    this.#lastError = '';
    this.#log.info({ url: this.brokerUrl }, 'connected to the MQTT broker');
    this.#client.subscribe([this.topics.status, this.topics.events], { qos: 1 }, (err) => {
      if (err) {
        this.#log.error({ err }, 'could not subscribe to the camera topics');
        return;
      }
      this.#subscribed = true;
      this.emit('subscribed');
    });
    this.emit('connect');
  }

  #onMessage(topic: string, payload: Buffer): void {
    if (topic === this.topics.status) {
      if (payload.length === 0) {
        this.#log.info('the camera’s retained status was cleared');
        this.#status = null;
        this.emit('status', null);
        return;
      }
      const parsed = parseCameraStatus(payload);
      if (!parsed.ok) {
        this.#log.warn({ topic, error: parsed.error }, 'ignored an invalid camera status');
        return;
      }
      this.#status = parsed.value;
      this.emit('status', parsed.value);
    } else if (topic === this.topics.events) {
      const parsed = parseCommandEvent(payload);
      if (!parsed.ok) {
        this.#log.warn({ topic, error: parsed.error }, 'ignored an invalid command event');
        return;
      }
      this.#onReply(parsed.value);
      this.emit('event', parsed.value);
    }
  }

  #onReply(event: CommandEvent): void {
    if (event.commandId === null) return;
    this.#recentReplies.set(event.commandId, event);
    if (this.#recentReplies.size > RECENT_REPLIES) {
      this.#recentReplies.delete(this.#recentReplies.keys().next().value!);
    }
    for (const wake of this.#waiters.get(event.commandId) ?? []) wake(event);
  }

  /**
   * Publishes a command (QoS 1, not retained) and returns its id. While the broker is unreachable
   * mqtt.js keeps it and sends it after reconnecting.
   */
  publishCommand(action: ControlAction, target?: string): string {
    const command: ControlCommand = { id: randomUUID(), action, ...(target !== undefined && { target }) };
    this.#client.publish(this.topics.control, JSON.stringify(command), { qos: 1, retain: false }, (err) => {
      if (err) this.#log.warn({ err, command }, 'could not publish a command');
    });
    this.#log.info({ command }, 'published a command');
    return command.id;
  }

  /** Resolves once subscribed to the camera's topics for the first time; rejects on abort. */
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

  /** Resolves with the camera's reply to `commandId`; rejects with `signal.reason` on abort. */
  waitForReply(commandId: string, signal: AbortSignal): Promise<CommandEvent> {
    const known = this.#recentReplies.get(commandId);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      signal.throwIfAborted();
      const waiters = this.#waiters.get(commandId) ?? new Set();
      this.#waiters.set(commandId, waiters);
      const done = () => {
        waiters.delete(wake);
        if (waiters.size === 0) this.#waiters.delete(commandId);
        signal.removeEventListener('abort', onAbort);
      };
      const wake = (event: CommandEvent) => {
        done();
        resolve(event);
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      waiters.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
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
