/** What fault tests look at from outside: the camera agent's encoder, process liveness, file descriptors. */
import { readFileSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { childProcesses, commandLine } from './processes.js';
import { expect } from 'vitest';
import { json, type System } from './system.js';
import { waitFor } from './wait.js';

/** The agent's encoder (ffmpeg on the test source, a child of the agent), once it runs. */
export function encoderOf(system: System): Promise<number> {
  return waitFor('the agent’s encoder', async () => {
    for (const pid of await childProcesses(system.agent!.proc.pid!)) {
      const line = await commandLine(pid);
      if (line?.includes('ffmpeg') && line.includes('lavfi')) return pid;
    }
    return undefined;
  });
}

/** Running: not gone, and not a zombie (an orphan's exit is reaped by whoever adopted it, maybe never). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Open file descriptors of `pid` by kind: socket, pipe, anon_inode, file. */
export async function descriptors(pid: number): Promise<Record<string, number>> {
  const kinds: Record<string, number> = { socket: 0, pipe: 0, anon_inode: 0, file: 0 };
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
    if (target === undefined) continue;
    const kind = /^(socket|pipe|anon_inode):/.exec(target)?.[1] ?? 'file';
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

export const total = (kinds: Record<string, number>) => Object.values(kinds).reduce((a, b) => a + b, 0);

/** GET /api/stream's body. */
export async function streamInfo(system: System): Promise<{
  state: string;
  camera: { state: string } | null;
  input?: { state: string; since: string };
  lastError?: { code: string; message: string };
}> {
  return (await system.api('/api/stream')).body as never;
}

/** POST /api/stream/start, which answers once the stream is playable. */
export async function goLive(system: System): Promise<void> {
  expect(await system.api('/api/stream/start', json())).toMatchObject({
    status: 200,
    body: { state: 'live' },
  });
}
