/**
 * CPU and memory of named processes, from /proc: CPU as % of one core from utime+stime deltas
 * (/proc/<pid>/stat), RSS from VmRSS (/proc/<pid>/status), sampled every second.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second (`getconf CLK_TCK`): 100 on every Linux this runs on. */
const CLK_TCK = 100;

export interface ProcStat {
  comm: string;
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

export async function procStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: split after the last ')'.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' '); // fields[0] is field 3 (state)
    if (fields[0] === 'Z') return undefined;
    return { comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // gone
  }
}

export async function rssKb(pid: number): Promise<number | undefined> {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Live children of `ppid` whose command name is `comm` (e.g. the ffmpeg a Node process spawned). */
export async function childrenNamed(ppid: number, comm: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await procStat(Number(entry));
    if (stat?.ppid === ppid && stat.comm === comm) found.push(Number(entry));
  }
  return found;
}

/** All live descendants of `pid` (the pid itself included). */
export async function processTree(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await procStat(Number(entry));
    if (stat) parents.set(Number(entry), stat.ppid);
  }
  const tree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of parents) {
      if (!tree.has(child) && tree.has(parent)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  return [...tree].filter((p) => parents.has(p));
}

export interface ResourceSeries {
  /** % of one core, one value per interval. */
  cpuPercent: number[];
  /** Resident memory in MiB, one value per sample. */
  rssMiB: number[];
}

/** What to sample: a role name and how to find its processes now (they may come and go). */
export type RoleFinder = () => Promise<number[]>;

/** The whole machine: busy ticks of all CPUs (/proc/stat) and memory in use (/proc/meminfo). */
async function machineNow(): Promise<{ ticks: number; usedKb: number } | undefined> {
  try {
    const cpu = (await readFile('/proc/stat', 'utf8'))
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
    const busy = cpu.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
    const meminfo = await readFile('/proc/meminfo', 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? NaN);
    return { ticks: busy, usedKb: kb('MemTotal') - kb('MemAvailable') };
  } catch {
    return undefined;
  }
}

/** The name of the series that covers every process on the machine. */
export const WHOLE_MACHINE = 'whole machine (every process; 100 % = one core)';

/**
 * Samples each role every `intervalMs` until stopped; a role's figures sum over its processes.
 * The whole machine is sampled too, so a reader can see whether anything else was busy.
 */
export class ResourceSampler {
  readonly series = new Map<string, ResourceSeries>();
  readonly #roles: Map<string, RoleFinder>;
  readonly #last = new Map<string, { ticks: Map<number, number>; at: number }>();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(roles: Record<string, RoleFinder>, intervalMs = 1000) {
    this.#roles = new Map(Object.entries(roles));
    for (const role of [...this.#roles.keys(), WHOLE_MACHINE])
      this.series.set(role, { cpuPercent: [], rssMiB: [] });
    void this.#sample();
    this.#timer = setInterval(() => void this.#sample(), intervalMs);
  }

  stop(): Record<string, ResourceSeries> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    return Object.fromEntries(this.series);
  }

  async #sample(): Promise<void> {
    if (this.#busy || (this.#timer === undefined && this.#last.size > 0)) return;
    this.#busy = true;
    try {
      for (const [role, find] of this.#roles) {
        const pids = await find().catch(() => []);
        const at = performance.now();
        const ticks = new Map<number, number>();
        let rss = 0;
        for (const pid of pids) {
          const stat = await procStat(pid);
          const kb = await rssKb(pid);
          if (!stat || kb === undefined) continue;
          ticks.set(pid, stat.ticks);
          rss += kb;
        }
        const series = this.series.get(role)!;
        const last = this.#last.get(role);
        if (ticks.size > 0) {
          series.rssMiB.push(rss / 1024);
          if (last) {
            // Only processes seen both times count: a process that just started has no interval yet.
            let used = 0;
            for (const [pid, now] of ticks) {
              const before = last.ticks.get(pid);
              if (before !== undefined) used += now - before;
            }
            const seconds = (at - last.at) / 1000;
            if (seconds > 0.2) series.cpuPercent.push(((used / CLK_TCK) * 100) / seconds);
          }
        }
        this.#last.set(role, { ticks, at });
      }
      const machine = await machineNow();
      if (machine) {
        const at = performance.now();
        const series = this.series.get(WHOLE_MACHINE)!;
        const last = this.#last.get(WHOLE_MACHINE);
        series.rssMiB.push(machine.usedKb / 1024);
        const seconds = last ? (at - last.at) / 1000 : 0;
        if (last && seconds > 0.2) {
          series.cpuPercent.push((((machine.ticks - last.ticks.get(0)!) / CLK_TCK) * 100) / seconds);
        }
        this.#last.set(WHOLE_MACHINE, { ticks: new Map([[0, machine.ticks]]), at });
      }
    } finally {
      this.#busy = false;
    }
  }
}

const alive = async (pid: number) => (await procStat(pid)) !== undefined;

/**
 * A finder that scans /proc only when a process it found is gone, none was found yet, or
 * `refreshMs` passed: a full scan every second would cost the machine under test CPU.
 */
export function cachedFinder(find: RoleFinder, refreshMs = 5000): RoleFinder {
  let pids: number[] = [];
  let at = -Infinity;
  return async () => {
    const stale = pids.length === 0 || performance.now() - at > refreshMs;
    if (stale || !(await Promise.all(pids.map(alive))).every(Boolean)) {
      pids = await find();
      at = performance.now();
    }
    return pids;
  };
}

/**
 * Private memory (USS, from /proc/<pid>/smaps_rollup: Private_Clean + Private_Dirty): the pages only
 * this process maps, what it costs beyond the libraries it shares. RSS counts those shared pages in
 * every process that maps them (ten ffmpeg processes: ten times), and PSS splits them among every
 * process on the machine that maps them, other people's included.
 */
export async function privateKb(pid: number): Promise<number | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    const clean = /^Private_Clean:\s+(\d+)\s+kB/m.exec(text);
    const dirty = /^Private_Dirty:\s+(\d+)\s+kB/m.exec(text);
    return clean && dirty ? Number(clean[1]) + Number(dirty[1]) : undefined;
  } catch {
    return undefined;
  }
}
