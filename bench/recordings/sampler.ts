/** The service read from /proc about every second while a camera's run goes on: CPU, RSS, writes, disk. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { procStat, rssKb, type RoleFinder } from '../lib/resources.js';
import type { Phase, Sample } from './types.js';

/** Bytes passed to write() by `pid` (/proc/<pid>/io wchar: files, pipes and sockets alike). */
async function wchar(pid: number): Promise<number | undefined> {
  try {
    const match = /^wchar:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/io`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bytes of every file under `dir`, walked each sample: the disk seen from outside, as the rest of
 * the bench sees it. Not the service's own count (GET /api/recordings' `bytes`; /metrics has none):
 * asking would put requests into the process whose CPU is being compared on and off. The walk costs
 * this process about 2 ms a second for a 60 s recording's 20 files, 35 ms for an hour's 900.
 */
export async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(path);
    else total += (await stat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export class ServiceSampler {
  readonly samples: Sample[] = [];
  phase: Phase = 'warmup';
  readonly #t0 = performance.now();
  readonly #timer: NodeJS.Timeout;
  /** Readings in order, one at a time. */
  #chain: Promise<void> = Promise.resolve();

  constructor(
    readonly servicePid: number,
    readonly remuxers: RoleFinder,
    readonly recordDir: string,
    intervalMs = 1000,
  ) {
    this.#timer = setInterval(() => void this.sample(), intervalMs);
  }

  /** Seconds since the run began. */
  now(): number {
    return (performance.now() - this.#t0) / 1000;
  }

  /** Ends the phase with a reading and begins the next with another: each phase has its own first and last. */
  async enter(phase: Phase): Promise<void> {
    await this.sample();
    this.phase = phase;
    await this.sample();
  }

  /** One reading, queued after the one under way. */
  sample(): Promise<void> {
    const phase = this.phase;
    this.#chain = this.#chain.then(() => this.#read(phase)).catch(() => {});
    return this.#chain;
  }

  async #read(phase: Phase): Promise<void> {
    const t = this.now();
    const [service, rss, written] = [
      await procStat(this.servicePid),
      await rssKb(this.servicePid),
      await wchar(this.servicePid),
    ];
    if (!service || rss === undefined || written === undefined) return;
    let remuxerTicks: number | undefined;
    for (const pid of await this.remuxers().catch(() => [])) {
      const stat = await procStat(pid);
      if (stat) remuxerTicks = (remuxerTicks ?? 0) + stat.ticks;
    }
    this.samples.push({
      t,
      phase,
      serviceTicks: service.ticks,
      serviceRssKb: rss,
      serviceWchar: written,
      ...(remuxerTicks !== undefined && { remuxerTicks }),
      diskBytes: await bytesUnder(this.recordDir),
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#chain;
  }
}
