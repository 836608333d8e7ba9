/**
 * A temporary folder removed at cleanup. Apart from cleanup.ts (which re-exports it) because that
 * one imports vitest, and the helpers the benches share (system.ts, browser.ts) must not.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cleanup } from './cleanup.js';

/** A fresh folder in the system's temporary directory (`prefix` then random), removed at `cleanup`. */
export async function tempDir(cleanup: Pick<Cleanup, 'add'>, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
