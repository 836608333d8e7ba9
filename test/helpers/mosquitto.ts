/** A real Mosquitto broker on a free loopback port, for one test or one file. */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './ports.js';
import { GiveUp, waitFor } from './wait.js';

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  /** Stops the broker (SIGTERM, then SIGKILL) and removes its folder. Idempotent. */
  stop(): Promise<void>;
  /** Stops and starts it again on the same port, as an operator restarting the service would. */
  restart(): Promise<void>;
  /** Stops the broker process, keeping its folder and port for `up()`. */
  down(): Promise<void>;
  /** Starts it again after `down()`, on the same port; resolves once it accepts connections. */
  up(): Promise<void>;
  /** Everything the broker logged, for failure messages. */
  log(): string;
}

export interface MosquittoOptions {
  /** Extra lines for mosquitto.conf (auth, ACLs). Without them, anonymous access is allowed. */
  extraConfig?: string;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'camstream-mosquitto-'));
  // Started as root, mosquitto drops to its own user: it must be able to read what we write here.
  await chmod(dir, 0o755);
  const port = await freeTcpPort();
  const confPath = join(dir, 'mosquitto.conf');
  await writeFile(
    confPath,
    [
      `listener ${port} 127.0.0.1`,
      options.extraConfig ?? 'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      '',
    ].join('\n'),
  );

  let output = '';
  let proc: ChildProcess | undefined;

  const launch = async () => {
    const child = spawn('mosquitto', ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = child;
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(`mosquitto on port ${port}`, async () => {
      if (child.exitCode !== null) throw new GiveUp(`mosquitto exited with ${child.exitCode}:\n${output}`);
      return accepts(port);
    });
  };

  const halt = async () => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await halt();
      await launch();
    },
    down: halt,
    up: launch,
    log: () => output,
  };
}
