/**
 * An outside observer of file access: inotifywait (Debian's inotify-tools) reports every open and
 * read of the watched files and of the files in the watched folders, by any process. (stat() and
 * lstat() raise no event: inotify sees opens, reads, writes and changes.)
 */
import { spawn } from 'node:child_process';
import type { Cleanup } from './cleanup.js';

export interface AccessWatch {
  /** `<path> <EVENTS>` lines so far, e.g. `/tmp/x/canary.txt OPEN`. */
  readonly events: readonly string[];
  /** Forgets the events so far. */
  clear(): void;
  stop(): Promise<void>;
}

export async function watchAccess(
  cleanup: Pick<Cleanup, 'add'>,
  paths: readonly string[],
): Promise<AccessWatch> {
  const proc = spawn('inotifywait', ['-m', '-e', 'open', '-e', 'access', '--format', '%w%f %e', ...paths], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: string[] = [];
  let partial = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    events.push(...lines.filter((line) => line !== ''));
  });
  let stderr = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  };
  cleanup.add(stop);
  await new Promise<void>((resolve, reject) => {
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Watches established')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`inotifywait exited with ${code}: ${stderr}`)));
  });
  return { events, clear: () => void events.splice(0), stop };
}
