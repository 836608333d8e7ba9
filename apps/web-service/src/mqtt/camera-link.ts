/**
 * The service's link to one camera over the shared MQTT connection (connection.ts): publishes
 * commands, keeps the camera's latest valid status, and hands command replies to whoever waits for
 * them. The connection reconnects and subscribes again by itself (the retained status arrives again
 * each time). Invalid payloads are logged and ignored.
 *
 * QoS 1 covers one hop: a command the broker accepted while the camera was not subscribed (the two
 * reconnecting after a broker restart) is dropped. So the newest command is sent again, with the same
 * id, until the camera answers it: after each reconnect, when the camera announces its status (it
 * subscribes before it does), and every RESEND_MS. The camera applies an id once and answers a
 * repeat with its first reply (`duplicate: true`), so a resend can never apply a command twice.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
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
import { LogBudget } from '../log-budget.js';
import type { MqttConnection } from './connection.js';

export interface CameraLinkOptions {
  readonly connection: MqttConnection;
  readonly cameraId: string;
  readonly logger: FastifyBaseLogger;
  /** How often an unanswered command is sent again (default RESEND_MS). */
  readonly resendMs?: number;
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
/** An unanswered command is sent again this often, and given up on after COMMAND_TTL_MS. */
export const RESEND_MS = 3000;
export const COMMAND_TTL_MS = 60_000;
/** A status that comes sooner than this after a send is its answer in the making, not a reconnect. */
const STATUS_RESEND_MIN_MS = 1000;

interface PendingCommand {
  readonly command: ControlCommand;
  readonly firstSentAt: number;
  sentAt: number;
  sends: number;
  /** Sent without knowing the camera was subscribed (no live message from it since the connect). */
  blind: boolean;
}

export class CameraLink extends EventEmitter<CameraLinkEvents> {
  readonly cameraId: string;
  readonly topics: CameraTopics;
  /** The broker URL without credentials, for messages. */
  readonly brokerUrl: string;
  readonly #connection: MqttConnection;
  readonly #log: FastifyBaseLogger;
  #status: CameraStatus | null = null;
  readonly #recentReplies = new Map<string, CommandEvent>();
  readonly #waiters = new Map<string, Set<(event: CommandEvent) => void>>();
  #closed = false;
  #pending: PendingCommand | undefined;
  #resendTimer: NodeJS.Timeout | undefined;
  /** A live (not retained) message came from the camera since the last connect: it is subscribed. */
  #cameraHeard = false;
  readonly #resendMs: number;
  /** One budget per topic, so that a flood on one does not hide the other. */
  readonly #invalidLog = new Map<string, LogBudget>();

  constructor(options: CameraLinkOptions) {
    super();
    this.cameraId = options.cameraId;
    this.topics = cameraTopics(options.cameraId);
    this.#log = options.logger.child({ mqtt: 'camera-link', cameraId: options.cameraId });
    this.#resendMs = options.resendMs ?? RESEND_MS;
    this.#connection = options.connection;
    this.brokerUrl = options.connection.brokerUrl;
    this.#connection.on('connect', this.#onConnect);
    this.#connection.on('subscribed', this.#onSubscribed);
    this.#connection.on('disconnect', this.#onDisconnect);
    this.#connection.attach(this.cameraId, (kind, payload, retained) =>
      this.#onMessage(kind, payload, retained),
    );
  }

  get connected(): boolean {
    return this.#connection.connected;
  }

  /** The camera's latest valid status; null until the service has heard from it. */
  get status(): CameraStatus | null {
    return this.#status;
  }

  readonly #onConnect = (): void => {
    this.#cameraHeard = false;
    this.emit('connect');
  };

  readonly #onSubscribed = (): void => {
    this.emit('subscribed');
    this.#resend('the link reconnected');
  };

  readonly #onDisconnect = (): void => {
    this.emit('disconnect');
  };

  #onMessage(kind: 'status' | 'events', payload: Buffer, retained: boolean): void {
    const topic = kind === 'status' ? this.topics.status : this.topics.events;
    // The camera subscribes before it publishes anything: a live message means commands reach it.
    const heardNow = !retained && !this.#cameraHeard;
    if (!retained) this.#cameraHeard = true;
    if (kind === 'status') {
      if (payload.length === 0) {
        this.#log.info('the camera’s retained status was cleared');
        this.#status = null;
        this.emit('status', null);
        return;
      }
      const parsed = parseCameraStatus(payload);
      if (!parsed.ok) {
        this.#logInvalid(topic, parsed.error, 'ignored an invalid camera status');
        return;
      }
      this.#status = parsed.value;
      this.emit('status', parsed.value);
      const pending = this.#pending;
      if (pending && !retained && (pending.blind || Date.now() - pending.sentAt >= STATUS_RESEND_MIN_MS)) {
        this.#resend(heardNow ? 'the camera is connected again' : 'the camera announced its status');
      }
    } else {
      const parsed = parseCommandEvent(payload);
      if (!parsed.ok) {
        this.#logInvalid(topic, parsed.error, 'ignored an invalid command event');
        return;
      }
      this.#onReply(parsed.value);
      this.emit('event', parsed.value);
    }
  }

  /** Another client may publish garbage as fast as it likes: a budget keeps the log readable. */
  #logInvalid(topic: string, error: string, message: string): void {
    let budget = this.#invalidLog.get(topic);
    if (!budget) this.#invalidLog.set(topic, (budget = new LogBudget(10, 10_000)));
    const { log, suppressedBefore } = budget.spend();
    if (suppressedBefore > 0)
      this.#log.warn({ suppressed: suppressedBefore }, 'more invalid payloads, not logged');
    if (log) this.#log.warn({ topic, error }, message);
  }

  #onReply(event: CommandEvent): void {
    if (event.commandId === null) return;
    if (event.commandId === this.#pending?.command.id) this.#settlePending();
    this.#recentReplies.set(event.commandId, event);
    if (this.#recentReplies.size > RECENT_REPLIES) {
      this.#recentReplies.delete(this.#recentReplies.keys().next().value!);
    }
    for (const wake of this.#waiters.get(event.commandId) ?? []) wake(event);
  }

  /** The newest command, until the camera answers it (or COMMAND_TTL_MS passes). */
  get pendingCommand(): ControlCommand | undefined {
    return this.#pending?.command;
  }

  /**
   * Publishes a command (QoS 1, not retained) and returns its id. While the broker is unreachable
   * mqtt.js keeps it and sends it after reconnecting; it is sent again until the camera answers. A
   * newer command supersedes it: only the newest intent is repeated.
   */
  publishCommand(action: ControlAction, target?: string): string {
    const command: ControlCommand = { id: randomUUID(), action, ...(target !== undefined && { target }) };
    const now = Date.now();
    this.#pending = { command, firstSentAt: now, sentAt: now, sends: 1, blind: !this.#knownReachable() };
    this.#send(command);
    this.#log.info({ command }, 'published a command');
    this.#scheduleResend();
    return command.id;
  }

  #send(command: ControlCommand): void {
    this.#connection.publish(this.topics.control, JSON.stringify(command), (err) =>
      this.#log.warn({ err, command }, 'could not publish a command'),
    );
  }

  #resend(reason: string): void {
    const pending = this.#pending;
    if (!pending || this.#closed || !this.#connection.connected) return;
    if (Date.now() - pending.firstSentAt > COMMAND_TTL_MS) {
      this.#log.warn(
        { command: pending.command, sends: pending.sends },
        `the camera never answered a command in ${COMMAND_TTL_MS / 1000} s: giving up on it`,
      );
      this.#settlePending();
      return;
    }
    pending.sentAt = Date.now();
    pending.sends += 1;
    pending.blind = !this.#knownReachable();
    this.#send(pending.command);
    this.#log.info(
      { command: pending.command, reason, sends: pending.sends },
      'sent an unanswered command again',
    );
    this.#scheduleResend();
  }

  #scheduleResend(): void {
    clearTimeout(this.#resendTimer);
    const after = this.#resendMs;
    this.#resendTimer = setTimeout(() => this.#resend(`no answer in ${after} ms`), after);
    this.#resendTimer.unref();
  }

  #knownReachable(): boolean {
    return this.#connection.connected && this.#cameraHeard;
  }

  #settlePending(): void {
    this.#pending = undefined;
    clearTimeout(this.#resendTimer);
    this.#resendTimer = undefined;
  }

  /** Resolves once subscribed to the camera's topics for the first time; rejects on abort. */
  whenSubscribed(signal: AbortSignal): Promise<void> {
    return this.#connection.whenSubscribed(signal);
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

  /**
   * Stops listening: no more statuses, replies or resends. The connection stays (other cameras use
   * it); what was published is still sent by it. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#resendTimer);
    this.#connection.off('connect', this.#onConnect);
    this.#connection.off('subscribed', this.#onSubscribed);
    this.#connection.off('disconnect', this.#onDisconnect);
    this.#connection.detach(this.cameraId);
  }
}
