/**
 * Retention: recordings older than RECORD_KEEP_DAYS go, and while RECORD_DIR's file system has less
 * free space than RECORD_MIN_FREE the oldest go first until it has enough. Checked at boot and every
 * minute. A recording still being written is never deleted.
 * `chooseExpired` is the pure rule; `Retention` applies it to the store and the disk.
 */
import { statfs } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { MinFree } from './settings.js';
import type { RecordingEntry, RecordingStore } from './store.js';

export interface RetentionPolicy {
  /** 0: kept whatever their age. */
  readonly keepDays: number;
  readonly minFree: MinFree;
}

/** Bytes of the file system that holds RECORD_DIR. */
export interface DiskSpace {
  readonly free: number;
  readonly size: number;
}

const DAY_MS = 86_400_000;

export function minFreeBytes(minFree: MinFree, disk: DiskSpace): number {
  return 'bytes' in minFree ? minFree.bytes : (minFree.percent / 100) * disk.size;
}

/** The recordings to delete, oldest first: too old, then as many of the oldest as free space needs. */
export function chooseExpired(
  entries: readonly RecordingEntry[],
  policy: RetentionPolicy,
  nowMs: number,
  disk: DiskSpace,
): RecordingEntry[] {
  const finished = entries.filter((entry) => !entry.recording).sort((a, b) => a.startMs - b.startMs);
  const chosen: RecordingEntry[] = [];
  const oldestKept = nowMs - policy.keepDays * DAY_MS;
  let free = disk.free;
  const needed = minFreeBytes(policy.minFree, disk);
  for (const entry of finished) {
    const tooOld = policy.keepDays > 0 && entry.endMs < oldestKept;
    if (!tooOld && free >= needed) break;
    chosen.push(entry);
    free += entry.bytes;
  }
  return chosen;
}

export interface RetentionOptions {
  readonly store: RecordingStore;
  readonly policy: RetentionPolicy;
  readonly logger: FastifyBaseLogger;
  readonly intervalMs?: number;
  /** The file system's space (tests: a disk that is nearly full, which a test cannot cause). */
  readonly disk?: (dir: string) => Promise<DiskSpace>;
  readonly now?: () => number;
}

export async function diskSpace(dir: string): Promise<DiskSpace> {
  const stats = await statfs(dir);
  return { free: stats.bavail * stats.bsize, size: stats.blocks * stats.bsize };
}

export class Retention {
  readonly #options: RetentionOptions;
  readonly #log: FastifyBaseLogger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RecordingEntry[]> | undefined;
  #closed = false;

  constructor(options: RetentionOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: 'retention' });
  }

  /** A first check now, then every `intervalMs` (default a minute). */
  async start(): Promise<void> {
    await this.check();
    if (this.#closed) return;
    this.#timer = setInterval(() => void this.check(), this.#options.intervalMs ?? 60_000);
    this.#timer.unref();
  }

  /** Deletes what the policy says, oldest first; one check at a time. */
  check(): Promise<RecordingEntry[]> {
    this.#running ??= this.#check().finally(() => (this.#running = undefined));
    return this.#running;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  async #check(): Promise<RecordingEntry[]> {
    const { store, policy, disk = diskSpace, now = Date.now } = this.#options;
    try {
      const entries = store.list();
      if (entries.length === 0) return []; // nothing to delete (and RECORD_DIR may not exist yet)
      const space = await disk(store.dir);
      const chosen = chooseExpired(entries, policy, now(), space);
      for (const entry of chosen) {
        await store.remove(entry.id);
        this.#log.info(
          { id: entry.id, bytes: entry.bytes, free: space.free },
          'recording deleted (RECORD_KEEP_DAYS / RECORD_MIN_FREE)',
        );
      }
      return chosen;
    } catch (err) {
      this.#log.error({ err }, 'retention check failed');
      return [];
    }
  }
}
