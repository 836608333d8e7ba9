/** A Node CLI of ours (built dist/) run as a child process, with its output kept for failure messages. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ManagedProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code/signal; immediately if already exited. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGTERM) and waits for exit; SIGKILL after `graceMs`. Idempotent. */
  stop(
    signal?: NodeJS.Signals,
    graceMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function runNode(name: string, script: string, env: Record<string, string>): ManagedProcess {
  const proc = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
    if (process.env.CAMSTREAM_TEST_VERBOSE) process.stderr.write(`[${name}] ${chunk.toString()}`);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    proc,
    output: () => output,
    exited: () => exit,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exit;
        clearTimeout(timer);
      }
      return exit;
    },
  };
}

/**
 * PIDs of live processes (not this one, not zombies) whose /proc/<pid>/`file` passes `test`; a
 * process that ends while we look, or is not ours to read, is passed over.
 */
async function livePidsWhere(
  file: 'cmdline' | 'environ',
  test: (fields: string[]) => boolean,
): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!/^\d+$/.test(entry) || pid === process.pid) continue;
    try {
      const fields = (await readFile(`/proc/${entry}/${file}`, 'utf8')).split('\0');
      if (test(fields) && (await processStat(pid)) !== undefined) pids.push(pid);
    } catch {
      // ended while we looked, or not ours to read
    }
  }
  return pids;
}

/** PIDs of live processes whose command line contains `needle` (e.g. a test's unique HLS folder). */
export function processesMatching(needle: string): Promise<number[]> {
  return livePidsWhere('cmdline', (args) => args.join(' ').includes(needle));
}

/** PIDs of the live children of `parent` (its direct children, as /proc reports their parent). */
export async function childProcesses(parent: number): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z' && Number(ppid) === parent) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/**
 * PIDs of the web service's segmenters: ffmpeg children of `service` reading the camera's stream from
 * their stdin (the service's ingest owns the UDP port; ffmpeg's command line names no address).
 */
export async function segmentersOf(service: number): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await childProcesses(service)) {
    const line = await commandLine(pid);
    if (line?.includes('ffmpeg') && line.includes('-i pipe:0')) pids.push(pid);
  }
  return pids;
}

/** The command line of `pid`, or undefined if it has ended. */
export async function commandLine(pid: number): Promise<string | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
  } catch {
    return undefined;
  }
}

/** A process as /proc/<pid>/stat shows it; `startTime` tells it from a later process given the same pid. */
export interface ProcessStat {
  readonly pid: number;
  readonly ppid: number;
  readonly state: string;
  readonly startTime: string;
}

/** `pid`'s stat, or undefined if it has ended (zombies count as ended: they hold no port or file). */
export async function processStat(pid: number): Promise<ProcessStat | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    // cutime cstime priority nice threads itrealvalue starttime: read after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined;
    return { pid, ppid: Number(fields[1]), state: fields[0]!, startTime: fields[19]! };
  } catch {
    return undefined;
  }
}

/** True while the very process `stat` describes is alive (not a later one that reuses its pid). */
export async function stillRunning(stat: ProcessStat): Promise<boolean> {
  return (await processStat(stat.pid))?.startTime === stat.startTime;
}

/** Every live descendant of `root` (its children, their children, ...), as /proc shows them now. */
export async function descendants(root: number): Promise<ProcessStat[]> {
  const { readdir } = await import('node:fs/promises');
  const all = (
    await Promise.all(
      (await readdir('/proc'))
        .filter((entry) => /^\d+$/.test(entry))
        .map((entry) => processStat(Number(entry))),
    )
  ).filter((stat) => stat !== undefined);
  const found: ProcessStat[] = [];
  let parents = new Set([root]);
  while (parents.size > 0) {
    const children = all.filter((stat) => parents.has(stat.ppid));
    found.push(...children);
    parents = new Set(children.map((stat) => stat.pid));
  }
  return found;
}

/**
 * PIDs of live processes whose environment holds `entry` (`NAME=value`): a marker a test puts in the
 * environment of what it spawns, inherited by everything below, reparented or not.
 */
export function processesWithEnv(entry: string): Promise<number[]> {
  return livePidsWhere('environ', (environ) => environ.includes(entry));
}
