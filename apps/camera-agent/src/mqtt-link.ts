/**
 * The agent's MQTT connection (mqtt.js 5, speaking MQTT 3.1.1 so any broker will do): a retained
 * Last Will `offline`, the retained status republished after every (re)connect, control messages
 * in at QoS 1, replies out at QoS 1.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { cameraTopics, describeMqttError, mqttConnectionState, type CameraTopics } from '@camstream/protocol';
import { AgentError } from './errors.js';
import type { Logger } from './logger.js';
import { RateLimiter } from './rate-limit.js';
import type { CameraStatus, CommandEvent } from '@camstream/protocol';

/** Where the broker is and how to prove who we are (AgentConfig.mqtt). */
export interface MqttBrokerSettings {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** PEM files for mqtts:// (paths, read here): the CA to trust, and a client certificate with its key. */
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface MqttLinkOptions extends MqttBrokerSettings {
  readonly cameraId: string;
  readonly logger: Logger;
  /** How long close() waits for the broker to acknowledge the final status. */
  readonly closeTimeoutMs?: number;
}

export type MqttLinkEvents = {
  /** A control message; `retained` ones come from the broker's store, not from a live publisher. */
  control: [payload: Buffer, info: { retained: boolean }];
  connect: [];
  disconnect: [];
  /** The broker refused us (bad credentials, not authorized): mqtt.js stops retrying. */
  refused: [error: AgentError];
};

/** SUBACK return code for a refused subscription (an ACL without read access, say). */
const SUBSCRIPTION_REFUSED = 128;

const offline = (): CameraStatus => ({ state: 'offline', at: new Date().toISOString() });

export class MqttLink extends EventEmitter<MqttLinkEvents> {
  readonly topics: CameraTopics;
  readonly #client: MqttClient;
  readonly #logger: Logger;
  readonly #closeTimeoutMs: number;
  /** The broker's URL without credentials, for messages. */
  readonly #where: string;
  #status: CameraStatus;
  #closing: Promise<void> | undefined;
  #everConnected = false;
  #up = false;
  /** A broker that is down fails every second; say so now and then, not every time. */
  readonly #errorLog = new RateLimiter(1, 30_000);
  /** A refusal retrying cannot fix came: said once, the client ended. */
  #refused = false;

  constructor(options: MqttLinkOptions, initialStatus: CameraStatus) {
    super();
    this.topics = cameraTopics(options.cameraId);
    this.#logger = options.logger;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 3000;
    this.#status = initialStatus;
    const url = new URL(options.url);
    url.username = '';
    url.password = '';
    this.#where = `the MQTT broker at ${url.host}`;
    const clientOptions: IClientOptions = {
      protocolVersion: 4,
      clean: true,
      clientId: `camstream-agent-${options.cameraId}-${randomBytes(4).toString('hex')}`,
      ...(options.username !== undefined && { username: options.username }),
      ...(options.password !== undefined && { password: options.password }),
      ...(options.caFile !== undefined && { ca: readFileSync(options.caFile) }),
      ...(options.certFile !== undefined && { cert: readFileSync(options.certFile) }),
      ...(options.keyFile !== undefined && { key: readFileSync(options.keyFile) }),
      reconnectPeriod: 1000,
      reconnectOnConnackError: true, // #onError stops for refusals that retrying cannot fix
      connectTimeout: 10_000,
      // The broker notices a dead agent (and publishes the Will) after 1.5 keepalives.
      keepalive: 15,
      // We subscribe on every connect ourselves, after which the status goes out (see #onConnect).
      resubscribe: false,
      will: {
        topic: this.topics.status,
        payload: Buffer.from(JSON.stringify(offline())),
        qos: 1,
        retain: true,
      },
    };
    this.#client = connect(options.url, clientOptions);
    this.#client.on('connect', () => void this.#onConnect());
    this.#client.on('reconnect', () => this.#refreshWill());
    this.#client.on('close', () => {
      if (!this.#up) return;
      this.#up = false;
      if (!this.#closing) this.#logger.warn('disconnected from the MQTT broker; reconnecting');
      this.emit('disconnect');
    });
    this.#client.on('error', (err) => this.#onError(err));
    this.#client.on('message', (topic, payload, packet) => {
      if (topic === this.topics.control) this.emit('control', payload, { retained: packet.retain });
    });
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  get status(): CameraStatus {
    return this.#status;
  }

  /** Makes `status` the retained status; published now if connected, else on the next connect. */
  setStatus(status: CameraStatus): void {
    this.#status = status;
    if (this.#client.connected && !this.#closing) this.#publish(this.topics.status, status, true);
  }

  /** A reply on the events topic (QoS 1; mqtt.js queues it while disconnected). */
  publishEvent(event: CommandEvent): void {
    if (this.#closing) return;
    this.#publish(this.topics.events, event, false);
  }

  /**
   * Publishes `finalStatus` (retained; a clean disconnect does not fire the Will), waits for the
   * broker's acknowledgement within a timeout, then disconnects. Idempotent.
   */
  close(finalStatus: CameraStatus = offline()): Promise<void> {
    this.#closing ??= this.#close(finalStatus);
    return this.#closing;
  }

  async #close(finalStatus: CameraStatus): Promise<void> {
    this.#status = finalStatus;
    if (this.#client.connected) {
      const published = this.#client
        .publishAsync(this.topics.status, JSON.stringify(finalStatus), { qos: 1, retain: true })
        .then(() => true)
        .catch(() => false);
      const acked = await Promise.race([published, sleep(this.#closeTimeoutMs).then(() => false)]);
      if (!acked) this.#logger.warn('the broker did not acknowledge the final status in time');
      await this.#client.endAsync(!acked);
    } else {
      // Not connected: nothing can be published; the broker fires (or fired) the Will itself.
      await this.#client.endAsync(true);
    }
  }

  async #onConnect(): Promise<void> {
    const first = !this.#everConnected;
    this.#everConnected = true;
    this.#up = true;
    try {
      // Subscribe before announcing the status: whoever waits for `idle` may publish a start at once.
      const [grant] = await this.#client.subscribeAsync(this.topics.control, { qos: 1 });
      if (this.#closing) return;
      if (grant?.qos === SUBSCRIPTION_REFUSED) {
        this.#logger.error(`the broker refused the subscription to ${this.topics.control}: check its ACL`);
      }
      this.#publish(this.topics.status, this.#status, true);
      this.#logger.info(first ? 'connected to the MQTT broker' : 'reconnected to the MQTT broker', {
        subscribed: this.topics.control,
      });
      this.emit('connect');
    } catch (err) {
      // The connection dropped mid-way; the next connect does it again.
      this.#logger.warn('could not subscribe to the control topic', { err });
    }
  }

  /** The Will's `at` is fixed when it is sent; refresh it on each attempt so it stays near the truth. */
  #refreshWill(): void {
    const will = this.#client.options.will;
    if (will) will.payload = Buffer.from(JSON.stringify(offline()));
  }

  #onError(err: Error & { code?: unknown }): void {
    // Refusals that retrying cannot fix (bad credentials, not authorized, an untrusted or expired
    // certificate) stop the agent; "server unavailable" and network errors are retried.
    // mqtt.js hands on an error of the TLS handshake twice (its TLS stream's and its own): once
    // refused, the agent is stopping.
    if (this.#refused) return;
    const described = describeMqttError(err, this.#where, mqttConnectionState(this.#client.stream));
    if (described.permanent) {
      this.#refused = true;
      const refused = new AgentError('AGENT_ERR_MQTT_REFUSED', described.message, { cause: err });
      this.#logger.error(refused.message, { kind: described.kind });
      this.#client.end(true);
      this.emit('refused', refused);
      return;
    }
    const { allowed, suppressed } = this.#errorLog.take();
    if (allowed) this.#logger.warn(described.message, { ...(suppressed > 0 && { suppressed }) });
  }

  #publish(topic: string, payload: object, retain: boolean): void {
    this.#client.publish(topic, JSON.stringify(payload), { qos: 1, retain }, (err) => {
      if (err && !this.#closing) this.#logger.warn(`could not publish to ${topic}`, { err });
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
