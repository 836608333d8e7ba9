/**
 * One Pipeline owns one encoder process and the loopback relay it sends to (mediasoup's Worker
 * pattern): `start()` resolves once the first datagram has arrived, `close()` stops the process
 * (graceful, then SIGTERM, then SIGKILL) and resolves on its exit. A Pipeline runs once; a
 * restart is a new Pipeline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { UdpTarget } from '@camstream/protocol';
import { systemClock, type Clock, type TimerHandle } from '@camstream/runtime';
import { EncoderStartError, InvalidStateError } from './errors.js';
import type { Logger } from './logger.js';
import { RateLimiter } from './rate-limit.js';
import type { EncoderCommand } from './sources/index.js';
import { StallWatchdog } from './stall-watchdog.js';
import { UdpRelay, type RelayStats } from './udp-relay.js';

export interface PipelineOptions {
  /** The encoder's command line, given the loopback port it must send to. */
  readonly buildCommand: (port: number) => EncoderCommand;
  readonly target: UdpTarget;
  readonly logger: Logger;
  /** No datagram for this long after data started: 'stalled'. */
  readonly stallTimeoutMs: number;
  /** How long `start()` waits for the first datagram. */
  readonly startTimeoutMs?: number;
  /** How long each step of `close()` waits before escalating: graceful → SIGTERM → SIGKILL. */
  readonly gracefulStopMs?: number;
  readonly terminateMs?: number;
  readonly clock?: Clock;
}

export interface PipelineExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** close() was called: the exit was asked for. */
  readonly wasWanted: boolean;
  /** The process ended before its first datagram (start() rejected) rather than later. */
  readonly duringStart: boolean;
  /** e.g. `exited with code 1: <last stderr line>`. */
  readonly message: string;
}

export type PipelineEvents = {
  'data-started': [];
  stalled: [silentForMs: number];
  exit: [PipelineExit];
};

const STDERR_TAIL_LINES = 10;

/** Encoders still running, killed if the agent's process exits without closing them. */
const liveEncoders = new Set<ChildProcess>();
let exitHookInstalled = false;

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  // The encoder leads its own process group (detached), so this also reaches anything it spawned.
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort for paths that skip close() (process.exit() after an uncaught error): encoders are
  // detached from our process group, so nothing else would stop them.
  process.on('exit', () => {
    for (const child of liveEncoders) signalGroup(child, 'SIGKILL');
  });
}

export class Pipeline extends EventEmitter<PipelineEvents> {
  readonly #options: Required<Omit<PipelineOptions, 'buildCommand' | 'target' | 'logger'>>;
  readonly #buildCommand: (port: number) => EncoderCommand;
  readonly #target: UdpTarget;
  readonly #logger: Logger;
  readonly #stderrLog = new RateLimiter(20, 1000);
  readonly #stderrTail: string[] = [];
  readonly #watchdog: StallWatchdog;
  #relay: UdpRelay | undefined;
  #child: ChildProcess | undefined;
  #command: EncoderCommand | undefined;
  #started = false;
  #dataStarted = false;
  #closeRequested = false;
  #closing: Promise<void> | undefined;
  #exited: Promise<PipelineExit> | undefined;
  #firstData: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(options: PipelineOptions) {
    super();
    this.#buildCommand = options.buildCommand;
    this.#target = options.target;
    this.#logger = options.logger;
    this.#options = {
      stallTimeoutMs: options.stallTimeoutMs,
      startTimeoutMs: options.startTimeoutMs ?? 10_000,
      gracefulStopMs: options.gracefulStopMs ?? 3000,
      terminateMs: options.terminateMs ?? 2000,
      clock: options.clock ?? systemClock,
    };
    this.#watchdog = new StallWatchdog(
      this.#options.stallTimeoutMs,
      (silentFor) => this.emit('stalled', silentFor),
      this.#options.clock,
    );
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get closed(): boolean {
    return this.#closeRequested;
  }

  get dataStarted(): boolean {
    return this.#dataStarted;
  }

  /** The loopback UDP port the encoder sends to (once started). */
  get port(): number | undefined {
    return this.#relay?.port;
  }

  get command(): EncoderCommand | undefined {
    return this.#command;
  }

  get stats(): RelayStats | undefined {
    return this.#relay?.stats;
  }

  /** Spawns the encoder; resolves on its first datagram. Rejects with an EncoderStartError. */
  async start(): Promise<void> {
    if (this.#closeRequested) throw new InvalidStateError('Pipeline closed');
    if (this.#started) throw new InvalidStateError('Pipeline.start() may be called once');
    this.#started = true;

    const relay = await UdpRelay.open(this.#target, this.#logger, () => this.#onDatagram());
    this.#relay = relay;
    if (this.#closeRequested) {
      await relay.close();
      throw new EncoderStartError('closed', 'the pipeline was closed while starting');
    }

    const firstData = new Promise<void>((resolve, reject) => (this.#firstData = { resolve, reject }));
    const timer = this.#options.clock.setTimeout(() => {
      this.#failStart(
        new EncoderStartError(
          'timeout',
          `the encoder sent no data within ${this.#options.startTimeoutMs} ms`,
        ),
      );
    }, this.#options.startTimeoutMs);
    try {
      this.#spawn(this.#buildCommand(relay.port));
      await firstData;
    } catch (err) {
      // Leave nothing behind: stop the process (if any) and the sockets before reporting.
      await this.close();
      throw err;
    } finally {
      this.#options.clock.clearTimeout(timer);
    }
  }

  /** Points the relay at another target without restarting the encoder. */
  async retarget(target: UdpTarget): Promise<void> {
    if (this.#closeRequested || !this.#relay) throw new InvalidStateError('Pipeline is not running');
    await this.#relay.retarget(target);
  }

  /** Stops the encoder and the relay. Idempotent; resolves once the process has exited. */
  close(): Promise<void> {
    this.#closeRequested = true;
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#watchdog.stop();
    this.#failStart(new EncoderStartError('closed', 'the pipeline was closed while starting'));
    const child = this.#child;
    if (child && this.#exited) await this.#stopProcess(child, this.#exited);
    await this.#relay?.close();
  }

  #spawn(command: EncoderCommand): void {
    this.#command = command;
    this.#logger.debug('spawning encoder', { command: command.command, args: command.args });
    installExitHook();
    const child = spawn(command.command, command.args, {
      // stdin only for ffmpeg's `q`; stdout unused (the stream goes over UDP); stderr is logged.
      stdio: [command.gracefulStop === 'q-stdin' ? 'pipe' : 'ignore', 'ignore', 'pipe'],
      // Own process group: a Ctrl-C meant for the agent does not reach the encoder behind its back.
      detached: true,
    });
    this.#child = child;
    liveEncoders.add(child);
    child.stdin?.on('error', () => {}); // EPIPE when `q` races the exit: the exit handler reports it
    this.#readStderr(child);
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      // Spawn failures (ENOENT, EACCES) emit 'error', then 'close' but no 'exit'.
      if (child.pid === undefined) spawnError = err;
      else this.#logger.warn('encoder process error', { err });
    });
    // Whatever the encoder started in its group must not outlive it (and hold its stderr open).
    child.once('exit', () => signalGroup(child, 'SIGKILL'));
    // 'close' rather than 'exit': by then stderr is read to the end, so the message has the last line.
    this.#exited = new Promise<PipelineExit>((resolve) => {
      child.once('close', (code, signal) =>
        resolve(this.#onExit(child, spawnError ? null : code, signal, spawnError)),
      );
    });
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) {
    liveEncoders.delete(child);
    this.#watchdog.stop();
    const how = spawnError
      ? `could not be started (${spawnError.message})`
      : signal
        ? `was killed by ${signal}`
        : `exited with code ${code}`;
    const last = this.#stderrTail.slice(-3).join(' | ');
    const message = `${how}${last ? `: ${last}` : ''}`;
    const exit: PipelineExit = {
      code,
      signal,
      wasWanted: this.#closeRequested,
      duringStart: !this.#dataStarted,
      message,
    };
    this.#logger.debug(`encoder ${message}`, { pid: child.pid, wasWanted: exit.wasWanted });
    this.#failStart(
      new EncoderStartError(spawnError ? 'spawn' : 'exit', `the encoder ${message}`, { cause: spawnError }),
    );
    void this.#relay?.close();
    this.emit('exit', exit);
    return exit;
  }

  async #stopProcess(child: ChildProcess, exited: Promise<PipelineExit>): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      await exited;
      return;
    }
    // A stalled encoder is likely hung: asking it nicely would only delay the restart.
    if (!this.#watchdog.stalled) {
      if (this.#command?.gracefulStop === 'q-stdin' && child.stdin?.writable) child.stdin.end('q');
      else child.kill('SIGINT');
      if (await this.#within(exited, this.#options.gracefulStopMs)) return;
      this.#logger.warn('the encoder ignored the graceful stop; sending SIGTERM', { pid: child.pid });
    }
    signalGroup(child, 'SIGTERM');
    // A stopped (SIGSTOP) encoder would hold SIGTERM pending forever; let it run to handle it.
    signalGroup(child, 'SIGCONT');
    if (await this.#within(exited, this.#options.terminateMs)) return;
    this.#logger.warn('the encoder ignored SIGTERM; sending SIGKILL', { pid: child.pid });
    signalGroup(child, 'SIGKILL');
    await exited;
  }

  #within(promise: Promise<unknown>, ms: number): Promise<boolean> {
    const { clock } = this.#options;
    let timer: TimerHandle | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = clock.setTimeout(() => resolve(false), ms)));
    return Promise.race([promise.then(() => true), timeout]).finally(() => clock.clearTimeout(timer!));
  }

  #failStart(error: Error): void {
    const pending = this.#firstData;
    this.#firstData = undefined;
    pending?.reject(error);
  }

  #onDatagram(): void {
    if (this.#dataStarted) {
      this.#watchdog.kick();
      return;
    }
    if (this.#closeRequested) return;
    this.#dataStarted = true;
    this.#watchdog.start();
    const pending = this.#firstData;
    this.#firstData = undefined;
    pending?.resolve();
    this.emit('data-started');
  }

  #readStderr(child: ChildProcess): void {
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') this.#onStderrLine(line.trim());
    });
    child.stderr?.on('end', () => {
      if (partial.trim() !== '') this.#onStderrLine(partial.trim());
    });
  }

  #onStderrLine(line: string): void {
    this.#stderrTail.push(line);
    if (this.#stderrTail.length > STDERR_TAIL_LINES) this.#stderrTail.shift();
    const { allowed, suppressed } = this.#stderrLog.take();
    if (suppressed > 0) this.#logger.debug(`encoder: ${suppressed} stderr lines suppressed`);
    if (allowed) this.#logger.debug(`encoder: ${line}`);
  }
}
