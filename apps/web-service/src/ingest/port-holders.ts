/**
 * Who holds a UDP port, for the message when the ingest cannot bind it: the sockets on the port in
 * /proc/net/udp{,6} and the processes whose file descriptors point at them (Linux; elsewhere: none).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

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
