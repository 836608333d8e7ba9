/**
 * The egress workers (HLS_WORKERS), service side: N processes forked from worker.ts, each given
 * the settings, the mirror as it is, then the listening server's handle (Node's "sending a server
 * object"): the kernel spreads new connections between the service and them. A connection a worker
 * hands back arrives here with the bytes it read; they are put back in front of the socket and the
 * socket given to the HTTP server as a new connection (so the service reads the request whole, and
 * sees the real peer). A worker that dies while the service runs is forked again; `close()` stops
 * them all (a stop message, then SIGTERM, then SIGKILL) and resolves when they have exited.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import {
  SERVER_MESSAGE,
  type FromWorker,
  type ToWorker,
  type WorkerSettings,
  type WorkerStats,
} from './messages.js';

/** Built: worker.js beside this file. From source (tests under vitest): worker.ts, through tsx. */
const HERE = fileURLToPath(import.meta.url);
const FROM_SOURCE = HERE.endsWith('.ts');
const ENTRY = HERE.replace(/workers\.[jt]s$/, FROM_SOURCE ? 'worker.ts' : 'worker.js');

const STOP_MS = 3000;
const STATS_TIMEOUT_MS = 1000;
/** A worker may hold this much more than an even share before it stops accepting. */
const SHARE_SLACK = 1.1;
/**
 * The service counts as this much of a worker in the share: it also ingests, packages and feeds
 * the workers, and its answers cost more (node:http and the fast path, where a worker writes
 * prebuilt heads to the socket). At 2000 viewers with one worker (bench/results/viewers-origin), the
 * service took 40 % of a core for its third of the connections, the worker 37 % for two thirds.
 */
const SERVICE_WEIGHT = 0.5;
const KILL_MS = 2000;
const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 10_000;
/** A worker that ran this long had no trouble starting: its successor starts at once. */
const HEALTHY_MS = 10_000;

export interface EgressWorkersOptions {
  readonly count: number;
  readonly server: Server;
  readonly settings: WorkerSettings;
  /** The mirror as it is now, for a new worker. */
  readonly snapshot: () => ToWorker[];
  readonly log: FastifyBaseLogger;
}

interface Slot {
  child: ChildProcess | undefined;
  /** Its connections, as it last reported them. */
  connections: number;
  startedAt: number;
  restartMs: number;
  timer: NodeJS.Timeout | undefined;
}

export class EgressWorkers {
  readonly #options: EgressWorkersOptions;
  readonly #log: FastifyBaseLogger;
  readonly #slots: Slot[] = [];
  #closing = false;
  /** The service's own connections (handed-back ones included). */
  #connections = 0;
  #share = Infinity;
  /** Workers forked so far (restarts included). */
  forked = 0;

  constructor(options: EgressWorkersOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'egress' });
    options.server.on('connection', (socket: Socket) => {
      this.#connections += 1;
      socket.once('close', () => (this.#connections -= 1));
    });
    for (let i = 0; i < options.count; i += 1) {
      const slot: Slot = {
        child: undefined,
        connections: 0,
        startedAt: 0,
        restartMs: RESTART_MIN_MS,
        timer: undefined,
      };
      this.#slots.push(slot);
      this.#fork(slot);
    }
  }

  /** The workers' process ids, as they are now. */
  get pids(): number[] {
    return this.#slots.flatMap((slot) => (slot.child?.pid !== undefined ? [slot.child.pid] : []));
  }

  /** To every worker (the feed's updates). */
  broadcast(message: ToWorker): void {
    for (const slot of this.#slots) {
      const child = slot.child;
      if (child?.connected) child.send(message, (err) => err && this.#log.debug({ err }, 'worker gone'));
    }
  }

  /** Each running worker's counters (tests, the bench). */
  async stats(): Promise<WorkerStats[]> {
    const asks = this.#slots.map(
      ({ child }) =>
        new Promise<WorkerStats | undefined>((resolve) => {
          if (!child?.connected) return resolve(undefined);
          const done = (stats: WorkerStats | undefined) => {
            clearTimeout(timer);
            child.off('message', onMessage);
            child.off('exit', onExit);
            resolve(stats);
          };
          const onMessage = (message: FromWorker) => {
            if (message.type !== 'stats') return;
            const { type: _type, ...stats } = message;
            done(stats);
          };
          const onExit = () => done(undefined);
          // A worker too busy to answer is left out (a /metrics scrape must not hang on it).
          const timer = setTimeout(onExit, STATS_TIMEOUT_MS);
          child.on('message', onMessage);
          child.once('exit', onExit);
          child.send({ type: 'stats' });
        }),
    );
    return (await Promise.all(asks)).filter((stats) => stats !== undefined);
  }

  /** Workers stop taking connections and close theirs once answered (the service is closing). */
  stop(): void {
    this.#closing = true;
    for (const slot of this.#slots) {
      clearTimeout(slot.timer);
      if (slot.child?.connected) slot.child.send({ type: 'stop' });
    }
  }

  /** Stops every worker; resolves once all have exited. Idempotent. */
  async close(): Promise<void> {
    this.stop();
    await Promise.all(this.#slots.map((slot) => slot.child && stopChild(slot.child)));
  }

  #shareOut(): void {
    let total = this.#connections;
    for (const slot of this.#slots) total += slot.connections;
    const share = fairShare(total, this.#slots.length);
    if (share === this.#share) return;
    this.#share = share;
    this.broadcast({ type: 'share', maxConnections: share });
  }

  #fork(slot: Slot): void {
    const child = fork(ENTRY, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: FROM_SOURCE ? ['--import', 'tsx'] : [],
    });
    this.forked += 1;
    slot.child = child;
    slot.startedAt = Date.now();
    child.on('message', (message: FromWorker, handle: unknown) => this.#onMessage(slot, message, handle));
    child.on('error', (err) => this.#log.warn({ err }, 'egress worker: IPC error'));
    child.once('exit', (code, signal) => {
      if (slot.child === child) slot.child = undefined;
      slot.connections = 0;
      if (this.#closing) return;
      const ranMs = Date.now() - slot.startedAt;
      slot.restartMs = ranMs >= HEALTHY_MS ? RESTART_MIN_MS : Math.min(slot.restartMs * 2, RESTART_MAX_MS);
      this.#log.warn(
        { pid: child.pid, code, signal, restartInMs: slot.restartMs },
        'egress worker exited: restarting it',
      );
      slot.timer = setTimeout(() => {
        slot.timer = undefined;
        if (!this.#closing) this.#fork(slot);
      }, slot.restartMs);
    });
    child.send(this.#options.settings);
    if (Number.isFinite(this.#share)) child.send({ type: 'share', maxConnections: this.#share });
    for (const message of this.#options.snapshot()) child.send(message);
    sendServer(child, this.#options.server);
  }

  #onMessage(slot: Slot, message: FromWorker, handle: unknown): void {
    if (message.type === 'load') {
      slot.connections = message.connections;
      this.#shareOut();
    } else if (message.type === 'hand-off') {
      const socket = handle as Socket | undefined;
      if (!socket) return;
      if (message.head.length > 0) socket.unshift(message.head);
      this.#options.server.emit('connection', socket);
    } else if (message.type === 'listen') {
      if (slot.child && !this.#closing) sendServer(slot.child, this.#options.server);
    } else if (message.type === 'log') {
      this.#log[message.level](message.fields, message.message);
    }
  }
}

/**
 * Each process's fair share of the connections, sent to the workers when it changes: at it a worker
 * stops accepting (worker.ts's balance). Without it the kernel gives most new connections to
 * whichever process is idle at that instant, and a worker ends up with most viewers.
 */
function fairShare(total: number, workers: number): number {
  return Math.ceil((total / (workers + SERVICE_WEIGHT)) * SHARE_SLACK) + 16;
}

/**
 * Gives a worker the listening server's bare handle (its `_handle`, which Node sends as is; the
 * worker listens on it once its own listener is in place). Not the server: Node would make it a
 * server listening in the worker before the worker sees it, and the connections it accepted then,
 * with no listener (a worker forked while viewers arrive), would never be answered.
 */
export function sendServer(
  child: ChildProcess,
  server: NetServer,
  callback?: (err: Error | null) => void,
): void {
  const handle = (server as unknown as { _handle: NetServer | null })._handle;
  if (handle) child.send(SERVER_MESSAGE, handle, callback);
}

/** Waits for `child` to exit: a stop message sent already, then SIGTERM, then SIGKILL. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const term = setTimeout(() => child.kill('SIGTERM'), STOP_MS);
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_MS + KILL_MS);
    child.once('exit', () => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve();
    });
  });
}
