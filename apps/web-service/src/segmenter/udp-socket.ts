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
