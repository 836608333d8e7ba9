/**
 * Where a bench's runs go: bench/results/, a folder per run, and the one result folder of each
 * benchmark that is committed, bench/results/<latest>, a copy of a run's.
 */
import { cp, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';

/** bench/results of this checkout. */
export const RESULTS = resolve(import.meta.dirname, '..', 'results');

/** A run's folder name from its start: `2026-12-06T03-04-05-678Z`. */
export const timeStamp = (date: Date): string => date.toISOString().replace(/[:.]/g, '-');

/** Replaces `latestDir` with a copy of `outDir` (unless they are the same folder); returns whether it did. */
export async function copyToLatest(outDir: string, latestDir: string): Promise<boolean> {
  if (resolve(latestDir) === resolve(outDir)) return false;
  await rm(latestDir, { recursive: true, force: true });
  await cp(outDir, latestDir, { recursive: true });
  return true;
}

/** Says where the run's report.md is, and copies its folder to bench/results/`latest` when `copy`. */
export async function publish(
  outDir: string,
  latest: string,
  copy: boolean,
  log: (line: string) => void,
): Promise<void> {
  log(`report: ${relative(process.cwd(), join(outDir, 'report.md'))}`);
  const latestDir = join(RESULTS, latest);
  if (copy && (await copyToLatest(outDir, latestDir))) log(`copied to ${relative(process.cwd(), latestDir)}`);
}
