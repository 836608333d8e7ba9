/** The one result folder of each benchmark that is committed: bench/results/<latest>, a copy of a run's. */
import { cp, rm } from 'node:fs/promises';
import { resolve } from 'node:path';

/** Replaces `latestDir` with a copy of `outDir` (unless they are the same folder); returns whether it did. */
export async function copyToLatest(outDir: string, latestDir: string): Promise<boolean> {
  if (resolve(latestDir) === resolve(outDir)) return false;
  await rm(latestDir, { recursive: true, force: true });
  await cp(outDir, latestDir, { recursive: true });
  return true;
}
