/**
 * The agent: MQTT commands in, one encoder pipeline at a time out. Commands (and restarts) run one
 * at a time in arrival order, so a stop that arrives during a start is applied after it.
 */
import { EventEmitter } from 'node:events';
import { parseUdpTarget } from '@camstream/protocol';
import { RestartBackoff, type BackoffOptions } from '@camstream/runtime';
import { refuseTarget } from './allowed-targets.js';
import type { AgentConfig } from './config.js';
import type { AgentError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { MqttLink } from './mqtt-link.js';
import { Pipeline } from './pipeline.js';
import { RateLimiter } from './rate-limit.js';
import { buildEncoderCommand, type SourceEnvironment } from './sources/index.js';
import { probeSourceEnvironment } from './sources/probe.js';
import { AgentStateMachine, type Outcome } from './state-machine.js';
import type { CameraState, CameraStatus } from '@camstream/protocol';

export interface AgentOptions {
  /** Defaults to a stderr logger at the configured LOG_LEVEL. */
  readonly logger?: Logger;
  /** How long a start waits for the encoder's first datagram (default 10 s). */
  readonly startTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
}

export type AgentEvents = {
  /** Every status the agent publishes (one per state change). */
  status: [CameraStatus];
  /** The broker refused the connection; the agent cannot work until restarted with other settings. */
  fatal: [AgentError];
};

/** Creates the agent and resolves once it is connected and has published its `idle` status. */
export async function startAgent(config: AgentConfig, options: AgentOptions = {}): Promise<Agent> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const environment = await probeSourceEnvironment(config, logger);
  const agent = new Agent(config, environment, logger, options);
  try {
    await agent.ready;
  } catch (err) {
    await agent.close();
    throw err;
  }
  return agent;
}

export class Agent extends EventEmitter<AgentEvents> {
  /** Resolves on the first connection to the broker; rejects if the broker refuses it. */
  readonly ready: Promise<void>;
  readonly #config: AgentConfig;
  readonly #environment: SourceEnvironment;
  readonly #logger: Logger;
  readonly #startTimeoutMs: number | undefined;
  readonly #machine: AgentStateMachine;
  readonly #backoff: RestartBackoff;
  readonly #link: MqttLink;
  #pipeline: Pipeline | undefined;
  #queue: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  #closed = false;
  readonly #rejectionLog = new RateLimiter(10, 10_000);

  constructor(
    config: AgentConfig,
    environment: SourceEnvironment,
    logger: Logger,
    options: AgentOptions = {},
  ) {
    super();
    this.#config = config;
    this.#environment = environment;
    this.#logger = logger;
    this.#startTimeoutMs = options.startTimeoutMs;
    this.#machine = new AgentStateMachine({
      defaultTarget: config.udpTarget,
      refuseTarget: (target) => refuseTarget(config.allowedTargets, target),
    });
    this.#backoff = new RestartBackoff(options.backoff);
    this.#link = new MqttLink({ ...config.mqtt, cameraId: config.cameraId, logger }, this.#statusPayload());
    this.#link.on('control', (payload, { retained }) => this.#onControl(payload, retained));
    this.ready = new Promise<void>((resolve, reject) => {
      this.#link.once('connect', resolve);
      this.#link.once('refused', reject);
    });
    this.ready.catch(() => {}); // startAgent reports it; later refusals go to 'fatal'
    this.#link.on('refused', (err) => this.emit('fatal', err));
  }

  get state(): CameraState {
    return this.#closed ? 'offline' : this.#machine.state;
  }

  get status(): CameraStatus {
    return this.#link.status;
  }

  /** The running encoder's process id, for diagnostics. */
  get encoderPid(): number | undefined {
    return this.#pipeline?.pid;
  }

  /** Stops the encoder, publishes `offline` (retained) and disconnects. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#backoff.cancel();
    // Closing the pipeline first makes an in-flight start fail fast instead of holding up the queue.
    await this.#pipeline?.close();
    await this.#queue;
    await this.#pipeline?.close();
    this.#closed = true;
    const offline: CameraStatus = {
      state: 'offline',
      at: new Date().toISOString(),
      source: this.#config.source,
    };
    this.emit('status', offline);
    await this.#link.close(offline);
  }

  #enqueue(task: () => Promise<void>): void {
    if (this.#closing) return;
    this.#queue = this.#queue
      .then(task)
      .catch((err: unknown) => this.#logger.error('internal error', { err }));
  }

  #onControl(payload: Buffer, retained: boolean): void {
    if (this.#closing) return;
    if (retained) {
      const reply = this.#machine.rejectRetained(payload);
      this.#logger.warn(
        `${reply.message}; clear it with: mosquitto_pub -r -n -t ${this.#link.topics.control}`,
      );
      this.#link.publishEvent(reply);
      return;
    }
    this.#enqueue(() => this.#handle(payload));
  }

  async #handle(payload: Buffer): Promise<void> {
    if (this.#closing) return;
    const decision = this.#machine.receive(payload);
    if (decision.kind === 'reply') {
      const { reply } = decision;
      if (!reply.ok) {
        // Every rejection is answered on the events topic; the log keeps to a budget, so a client
        // publishing garbage cannot fill the Pi's journal.
        const { allowed, suppressed } = this.#rejectionLog.take();
        if (allowed) {
          this.#logger.warn(`rejected a control message: ${reply.message}`, {
            commandId: reply.commandId,
            ...(suppressed > 0 && { suppressedBefore: suppressed }),
          });
        }
      } else
        this.#logger.info(`command ${reply.commandId}: ${reply.message}`, { duplicate: reply.duplicate });
      this.#link.publishEvent(reply);
      return;
    }
    const { command, effect } = decision;
    this.#logger.info(`command ${command.id}: ${command.action}`, { target: command.target });
    let outcome: Outcome;
    if (effect.type === 'start') outcome = await this.#start(effect.target, 'command');
    else if (effect.type === 'retarget') outcome = await this.#retarget(effect.target);
    else outcome = await this.#stop();
    this.#link.publishEvent(this.#machine.settle(command, outcome));
  }

  async #start(target: string, cause: 'command' | 'restart'): Promise<Outcome> {
    if (cause === 'command') this.#backoff.reset();
    await this.#stopPipeline();
    this.#machine.starting(target);
    this.#publishStatus();
    try {
      const pipeline = new Pipeline({
        buildCommand: (port) => buildEncoderCommand(this.#config, this.#environment, port),
        target: parseUdpTarget(target),
        logger: this.#logger,
        stallTimeoutMs: this.#config.stallTimeoutMs,
        ...(this.#startTimeoutMs !== undefined && { startTimeoutMs: this.#startTimeoutMs }),
      });
      this.#watch(pipeline);
      this.#pipeline = pipeline;
      if (this.#closing) throw new Error('the agent is shutting down');
      await pipeline.start();
      const commandLine = [pipeline.command?.command, ...(pipeline.command?.args ?? [])].join(' ');
      this.#logger.info(`encoder running (pid ${pipeline.pid}): ${commandLine}`);
      this.#machine.streaming();
      this.#backoff.healthy();
      this.#publishStatus();
      return { ok: true };
    } catch (err) {
      await this.#stopPipeline();
      const message = `start failed: ${(err as Error).message}`;
      if (this.#closing) return { ok: false, message: 'the agent is shutting down' };
      this.#logger.warn(message);
      if (cause === 'command') {
        this.#machine.failed(message, { stillWanted: false });
        this.#publishStatus();
      } else {
        this.#scheduleRestart(message);
      }
      return { ok: false, message };
    }
  }

  #watch(pipeline: Pipeline): void {
    pipeline.on('exit', (exit) => {
      // A failed start is reported by start() itself; a wanted exit is a stop.
      if (exit.wasWanted || exit.duringStart) return;
      this.#enqueue(() => this.#lost(pipeline, `the encoder ${exit.message}`));
    });
    pipeline.on('stalled', (silentForMs) => {
      this.#enqueue(() => this.#lost(pipeline, `the encoder sent no data for ${silentForMs} ms`));
    });
  }

  /** The encoder died or stalled after it had started. */
  async #lost(pipeline: Pipeline, reason: string): Promise<void> {
    if (pipeline !== this.#pipeline || this.#closing) return;
    await this.#stopPipeline();
    if (this.#machine.wanted) this.#scheduleRestart(reason);
  }

  #scheduleRestart(reason: string): void {
    const delay = this.#backoff.schedule(() => this.#enqueue(() => this.#restart()));
    const message = `${reason}; restarting in ${delay} ms`;
    this.#logger.warn(message);
    this.#machine.failed(message, { stillWanted: true });
    this.#publishStatus();
    this.#link.publishEvent({ commandId: null, ok: false, message, state: 'error' });
  }

  async #restart(): Promise<void> {
    const target = this.#machine.target;
    if (this.#closing || !this.#machine.wanted || target === undefined) return;
    await this.#start(target, 'restart');
  }

  async #retarget(target: string): Promise<Outcome> {
    const pipeline = this.#pipeline;
    if (!pipeline) return this.#start(target, 'command');
    try {
      await pipeline.retarget(parseUdpTarget(target));
    } catch (err) {
      return { ok: false, message: `could not switch to ${target}: ${(err as Error).message}` };
    }
    this.#machine.retargeted(target);
    this.#publishStatus();
    return { ok: true, message: `now streaming to ${target}` };
  }

  async #stop(): Promise<Outcome> {
    this.#backoff.reset();
    await this.#stopPipeline();
    this.#machine.stopped();
    this.#publishStatus();
    return { ok: true };
  }

  async #stopPipeline(): Promise<void> {
    const pipeline = this.#pipeline;
    this.#pipeline = undefined;
    await pipeline?.close();
  }

  #statusPayload(): CameraStatus {
    return { ...this.#machine.status, at: new Date().toISOString(), source: this.#config.source };
  }

  #publishStatus(): void {
    const status = this.#statusPayload();
    this.#link.setStatus(status);
    this.emit('status', status);
  }
}
