/**
 * The soak's probes outside the browser: processes from /proc (RSS, CPU, open file descriptors by
 * kind), folders on disk (bytes, files), and the service's GET /metrics.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePrometheusText } from '../lib/metrics.js';
import { procStat, type RoleFinder } from '../lib/resources.js';
import type { FdCounts, FolderUsage, ProcessSample, ServiceSample } from './types.js';

/** Clock ticks per second (`getconf CLK_TCK`): 100 on every Linux this runs on, as resources.ts has it. */
const CLK_TCK = 100;

const noFds = (): FdCounts => ({ total: 0, socket: 0, pipe: 0, anon_inode: 0, file: 0, other: 0 });

/** The kind of one /proc/<pid>/fd link target: `socket:[123]`, `pipe:[456]`, `anon_inode:[eventfd]`, a path. */
export function fdKind(target: string): Exclude<keyof FdCounts, 'total'> {
  if (target.startsWith('socket:')) return 'socket';
  if (target.startsWith('pipe:')) return 'pipe';
  if (target.startsWith('anon_inode:')) return 'anon_inode';
  // memfd: shows as "/memfd:name (deleted)"; device nodes are not files on disk either.
  if (target.startsWith('/') && !target.startsWith('/dev/') && !target.startsWith('/memfd:')) return 'file';
  return 'other';
}

/**
 * VmRSS and RssAnon of `pid`, kB: RSS counts shared memory in every process that maps it (Chromium
 * passes video frames through shared memory), RssAnon is the process's own.
 */
async function memoryKb(pid: number): Promise<{ rss: number; anon: number } | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
    const rss = kb('VmRSS');
    return Number.isFinite(rss) ? { rss, anon: kb('RssAnon') } : undefined;
  } catch {
    return undefined;
  }
}

/** Open descriptors of `pid` by kind; undefined once it is gone. */
export async function fdCounts(pid: number): Promise<FdCounts | undefined> {
  let names: string[];
  try {
    names = await readdir(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const counts = noFds();
  for (const name of names) {
    try {
      counts[fdKind(await readlink(`/proc/${pid}/fd/${name}`))]++;
      counts.total++;
    } catch {
      // closed while we looked
    }
  }
  return counts;
}

/**
 * Samples each role's processes on demand: RSS and descriptors summed over them, CPU as % of one
 * core from utime+stime since the previous call (only processes seen both times count).
 */
export class ProcessProbe {
  readonly #roles: Map<string, RoleFinder>;
  readonly #last = new Map<string, { ticks: Map<number, number>; at: number }>();

  constructor(roles: Record<string, RoleFinder>) {
    this.#roles = new Map(Object.entries(roles));
  }

  async sample(): Promise<Record<string, ProcessSample>> {
    const out: Record<string, ProcessSample> = {};
    for (const [role, find] of this.#roles) {
      const pids = await find().catch(() => []);
      const at = performance.now();
      const ticks = new Map<number, number>();
      const fds = noFds();
      let rss = 0;
      let anon = 0;
      for (const pid of pids) {
        const stat = await procStat(pid);
        const memory = await memoryKb(pid);
        const open = await fdCounts(pid);
        if (!stat || !memory || !open) continue;
        ticks.set(pid, stat.ticks);
        rss += memory.rss;
        anon += memory.anon;
        for (const key of Object.keys(fds) as (keyof FdCounts)[]) fds[key] += open[key];
      }
      const last = this.#last.get(role);
      this.#last.set(role, { ticks, at });
      if (ticks.size === 0) continue;
      const sample: ProcessSample = {
        pids: [...ticks.keys()],
        rssMiB: rss / 1024,
        anonMiB: anon / 1024,
        fds,
      };
      if (last) {
        let used = 0;
        for (const [pid, now] of ticks) used += now - (last.ticks.get(pid) ?? now);
        sample.cpuPercent = ((used / CLK_TCK) * 100) / ((at - last.at) / 1000);
      }
      out[role] = sample;
    }
    return out;
  }
}

/**
 * Bytes (apparent sizes) and regular files under `dir`, following no links; zeros when it is gone.
 * Synchronous on purpose: the viewer's HTTP cache reaches tens of thousands of files in a long run,
 * and a promise per lstat would cost the machine under test several times the CPU.
 */
export function folderUsage(dir: string, skip: readonly string[] = []): FolderUsage {
  const usage: FolderUsage = { bytes: 0, files: 0 };
  const walk = (path: string): void => {
    if (skip.includes(path)) return;
    let entries;
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return; // gone, or not ours to read
    }
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        walk(child);
      } else if (entry.isFile()) {
        try {
          usage.bytes += lstatSync(child).size;
          usage.files++;
        } catch {
          // removed while we looked
        }
      }
    }
  };
  walk(dir);
  return usage;
}

const MiB = 2 ** 20;

/** GET /metrics once: the process's memory and descriptors, and what the LL-HLS packager holds. */
export async function serviceMetrics(url: string): Promise<ServiceSample> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const values = parsePrometheusText(await response.text());
  const read = (name: string, scale = 1) => {
    const value = values[`camstream_${name}`];
    return value === undefined ? undefined : value / scale;
  };
  const sample: ServiceSample = {
    heapUsedMiB: read('nodejs_heap_size_used_bytes', MiB),
    externalMiB: read('nodejs_external_memory_bytes', MiB),
    rssMiB: read('process_resident_memory_bytes', MiB),
    openFds: read('process_open_fds'),
    bytesHeld: read('llhls_bytes_held'),
    partsHeld: read('llhls_parts_held'),
    segmentsHeld: read('llhls_segments_held'),
    waitingRequests: read('llhls_waiting_requests'),
  };
  // Absent gauges stay absent in samples.json rather than becoming explicit undefined.
  for (const key of Object.keys(sample) as (keyof ServiceSample)[]) {
    if (sample[key] === undefined) delete sample[key];
  }
  return sample;
}

/** The Cache-Control of a media part or segment the playlist lists now; undefined if none is listed. */
export async function mediaCacheControl(playlistUrl: string): Promise<string | undefined> {
  const playlist = await (await fetch(playlistUrl, { signal: AbortSignal.timeout(5000) })).text();
  const name = /[\w.-]+\.m4s/.exec(playlist)?.[0];
  if (name === undefined) return undefined;
  const response = await fetch(new URL(name, playlistUrl), { signal: AbortSignal.timeout(5000) });
  await response.arrayBuffer();
  return response.headers.get('cache-control') ?? undefined;
}
