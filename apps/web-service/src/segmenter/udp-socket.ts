/**
 * Knowing when ffmpeg listens: ffmpeg logs nothing when it binds its UDP input, so the segmenter
 * looks for the socket in /proc (Linux): a UDP socket on the port, owned by the ffmpeg process.
 * Where /proc is missing the check is skipped (spawned is then the best it can know).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Inodes of the sockets bound to local `port` in /proc/net/udp and udp6; undefined without /proc. */
async function udpSocketInodes(port: number): Promise<Set<string> | undefined> {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  let readable = false;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(portHex) && fields[9]) inodes.add(fields[9]);
    }
  }
  return readable ? inodes : undefined;
}

async function ownsSocket(pid: number, inodes: Set<string>): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const link = await readlink(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) return true;
    } catch {
      // the fd closed while we looked
    }
  }
  return false;
}

/**
 * Resolves once process `pid` has a UDP socket bound to `port`. Rejects if `exited` settles first
 * or after `timeoutMs`. A bounded startup check (ffmpeg binds within ~50 ms), not a watch loop.
 */
export async function waitUntilUdpBound(
  port: number,
  pid: number,
  exited: Promise<unknown>,
  timeoutMs = 5000,
): Promise<void> {
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const inodes = await udpSocketInodes(port);
    if (inodes === undefined) return;
    if (inodes.size > 0 && (await ownsSocket(pid, inodes))) return;
    if (hasExited) throw new Error('ffmpeg exited before it listened');
    if (Date.now() > deadline) throw new Error(`ffmpeg did not bind UDP port ${port} within ${timeoutMs} ms`);
    await sleep(10);
  }
}

const allInodes = async (port: number) => (await udpSocketInodes(port)) ?? new Set<string>();

export interface PortHolder {
  readonly pid: number;
  readonly commandLine: string;
}

/** The processes that hold a UDP socket bound to `port` (those whose /proc we may read). */
export async function udpPortHolders(port: number): Promise<PortHolder[]> {
  const inodes = await udpSocketInodes(port);
  if (!inodes || inodes.size === 0) return [];
  const holders: PortHolder[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (!(await ownsSocket(pid, inodes))) continue;
    try {
      const commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      holders.push({ pid, commandLine });
    } catch {
      // it ended while we looked
    }
  }
  return holders;
}

/**
 * At boot: a segmenter left behind by a service that was killed outright (SIGKILL, OOM) sits in its
 * UDP read while the camera is silent (nothing to write, so no SIGPIPE) and holds the port, so every
 * start would fail. Ours (`isOurs` by command line) are killed; anything else is reported.
 */
export async function reclaimUdpPort(
  port: number,
  isOurs: (commandLine: string) => boolean,
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void },
): Promise<PortHolder[]> {
  const holders = await udpPortHolders(port);
  const strangers: PortHolder[] = [];
  for (const holder of holders) {
    if (!isOurs(holder.commandLine)) {
      strangers.push(holder);
      continue;
    }
    try {
      process.kill(holder.pid, 'SIGKILL'); // blocked in a read: `q` and SIGTERM would not be seen
      log.warn({ pid: holder.pid, port }, 'stopped a segmenter left behind by an earlier run of the service');
      for (
        let waited = 0;
        waited < 2000 && (await ownsSocket(holder.pid, await allInodes(port)));
        waited += 20
      ) {
        await sleep(20); // the port is free once the process is gone
      }
    } catch (err) {
      strangers.push(holder);
      log.error({ pid: holder.pid, err: (err as Error).message }, 'could not stop a segmenter left behind');
    }
  }
  for (const { pid, commandLine } of strangers) {
    log.error({ pid, commandLine, port }, `UDP port ${port} is held by another process: starts will fail`);
  }
  return strangers;
}
