/**
 * The load generator, parent side: `processes` generator processes (generator.ts, forked with this
 * process's loader flags so tsx runs them), viewers spread evenly over them, windows marked and
 * collected in every process at once. Stopped by the teardown whatever happens: nothing outlives it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Teardown } from '../lib/teardown.js';
import type { FromGenerator, GeneratorWindow, ToGenerator } from './generator.js';

const GENERATOR = fileURLToPath(new URL('./generator.ts', import.meta.url));
const ANSWER_TIMEOUT_MS = 30_000;

class GeneratorProcess {
  readonly child: ChildProcess;
  readonly #waiting: ((message: FromGenerator) => void)[] = [];
  readonly ready: Promise<void>;
  viewers = 0;

  constructor() {
    this.child = fork(GENERATOR, [], {
      // CAMSTREAM_PROFILE_GENERATOR=<dir>: each generator process writes a V8 CPU profile there.
      execArgv: process.env.CAMSTREAM_PROFILE_GENERATOR
        ? [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${process.env.CAMSTREAM_PROFILE_GENERATOR}`]
        : process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: FromGenerator) => this.#waiting.shift()?.(message));
    this.ready = this.#next('ready').then(() => undefined);
  }

  send(message: ToGenerator): void {
    if (this.child.connected) this.child.send(message);
  }

  #next(type: FromGenerator['type']): Promise<FromGenerator> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`a load generator did not answer (${type}) within ${ANSWER_TIMEOUT_MS} ms`)),
        ANSWER_TIMEOUT_MS,
      );
      const exited = () => reject(new Error(`a load generator exited (waiting for ${type})`));
      this.child.once('exit', exited);
      this.#waiting.push((message) => {
        clearTimeout(timer);
        this.child.off('exit', exited);
        if (message.type === type) resolve(message);
        else reject(new Error(`a load generator answered ${message.type}, not ${type}`));
      });
    });
  }

  async collect(): Promise<GeneratorWindow> {
    const answer = this.#next('window');
    this.send({ type: 'collect' });
    const message = await answer;
    if (message.type !== 'window') throw new Error('unreachable');
    return message.window;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export class LoadGenerator {
  readonly #processes: GeneratorProcess[];

  private constructor(processes: GeneratorProcess[]) {
    this.#processes = processes;
  }

  static async start(teardown: Teardown, processes: number): Promise<LoadGenerator> {
    const all = Array.from({ length: processes }, () => new GeneratorProcess());
    const generator = new LoadGenerator(all);
    teardown.add(() => generator.stop(), 'the load generator');
    await Promise.all(all.map((p) => p.ready));
    return generator;
  }

  get pids(): number[] {
    return this.#processes.flatMap((p) => p.child.pid ?? []);
  }

  get viewers(): number {
    return this.#processes.reduce((sum, p) => sum + p.viewers, 0);
  }

  /** `count` more viewers of `playlistUrl` (`polling`: plain HLS ones), arriving over `rampMs`, spread evenly over the processes. */
  add(playlistUrl: string, count: number, rampMs: number, polling = false): void {
    const n = this.#processes.length;
    this.#processes.forEach((p, i) => {
      const share = Math.floor(count / n) + (i < count % n ? 1 : 0);
      if (share === 0) return;
      p.viewers += share;
      p.send({ type: 'add', playlistUrl, count: share, rampMs, polling });
    });
  }

  mark(): void {
    for (const p of this.#processes) p.send({ type: 'mark' });
  }

  collect(): Promise<GeneratorWindow[]> {
    return Promise.all(this.#processes.map((p) => p.collect()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#processes.map((p) => p.stop()));
  }
}
