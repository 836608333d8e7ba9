/** A real Mosquitto on a free loopback port, anonymous access, no persistence. */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cleanup } from './cleanup.js';
import { freeTcpPort } from './ports.js';
import { waitFor } from './wait.js';

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
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

export async function startMosquitto(cleanup: Cleanup): Promise<Mosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'camstream-ws-mosquitto-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  // Started as root, mosquitto drops to its own user, which must read the config.
  await chmod(dir, 0o755);
  const port = await freeTcpPort();
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n`,
  );

  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  cleanup.add(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  });
  await waitFor(`mosquitto on port ${port}`, async () => {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}):\n${log}`);
    return accepts(port);
  });
  return { port, url: `mqtt://127.0.0.1:${port}` };
}
