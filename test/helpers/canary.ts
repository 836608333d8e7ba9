/**
 * Canary files beside HLS_DIR and in the folder above it (root/canary.txt, root/inner/canary.txt,
 * HLS_DIR = root/inner/hls): nothing the service answers may contain their text.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cleanup } from './cleanup.js';

export interface CanaryLayout {
  readonly root: string;
  readonly inner: string;
  readonly hlsDir: string;
  /** What each canary holds (and nothing else does). */
  readonly secret: string;
  readonly canaries: readonly string[];
}

export async function canaryLayout(cleanup: Pick<Cleanup, 'add'>): Promise<CanaryLayout> {
  const root = await mkdtemp(join(tmpdir(), 'camstream-canary-'));
  cleanup.add(() => rm(root, { recursive: true, force: true }));
  const inner = join(root, 'inner');
  const hlsDir = join(inner, 'hls');
  await mkdir(hlsDir, { recursive: true });
  const secret = `CANARY-${Math.random().toString(36).slice(2)}`;
  const canaries = [join(root, 'canary.txt'), join(inner, 'canary.txt')];
  for (const canary of canaries) await writeFile(canary, `${secret}\n`);
  return { root, inner, hlsDir, secret, canaries };
}
