/**
 * Canary files beside HLS_DIR and in the folder above it (root/canary.txt, root/inner/canary.txt,
 * HLS_DIR = root/inner/hls): nothing the service answers may contain their text.
 */
import { execFileSync } from 'node:child_process';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cleanup } from './cleanup.js';
import { tempDir } from './temp-dir.js';

export interface CanaryLayout {
  readonly root: string;
  readonly inner: string;
  readonly hlsDir: string;
  /** What each canary holds (and nothing else does). */
  readonly secret: string;
  readonly canaries: readonly string[];
}

export async function canaryLayout(cleanup: Pick<Cleanup, 'add'>): Promise<CanaryLayout> {
  const root = await tempDir(cleanup, 'camstream-canary-');
  const inner = join(root, 'inner');
  const hlsDir = join(inner, 'hls');
  await mkdir(hlsDir, { recursive: true });
  const secret = `CANARY-${Math.random().toString(36).slice(2)}`;
  const canaries = [join(root, 'canary.txt'), join(inner, 'canary.txt')];
  for (const canary of canaries) await writeFile(canary, `${secret}\n`);
  return { root, inner, hlsDir, secret, canaries };
}

/** A stream id no segmenter of this test made (names.ts's format). */
export const FOREIGN_STREAM_ID = 'mwr2xq4f-0c41f1fc';

/** Names the segmenter would make, that lead elsewhere: /hls must not follow them. */
export const TRAPS = {
  relativeSymlink: `${FOREIGN_STREAM_ID}-00001.ts`,
  absoluteSymlink: `${FOREIGN_STREAM_ID}-00002.ts`,
  hardLink: `${FOREIGN_STREAM_ID}-00003.ts`,
  symlinkToFolder: `${FOREIGN_STREAM_ID}-00004.ts`,
  folder: `${FOREIGN_STREAM_ID}-00005.ts`,
  fifo: `${FOREIGN_STREAM_ID}-00006.ts`,
} as const;

/** Files in HLS_DIR the segmenter did not make. */
export const STRANGERS = [
  'notes.txt',
  'index.html',
  '.hidden',
  'stream.m3u8.tmp',
  `${FOREIGN_STREAM_ID}-00000.ts.tmp`,
  'STREAM.M3U8',
  'canary.txt',
] as const;

/**
 * Puts the traps and strangers into HLS_DIR: symlinks (relative, absolute, to a folder) and a hard
 * link to the canaries, a folder and a FIFO (a reader would wait forever) with segment names, files
 * the segmenter would never write, and a sub-folder with a playlist.
 */
export async function placeTraps(layout: CanaryLayout): Promise<void> {
  const { hlsDir } = layout;
  for (const name of STRANGERS) await writeFile(join(hlsDir, name), 'not the segmenter’s');
  await mkdir(join(hlsDir, 'sub'));
  await writeFile(join(hlsDir, 'sub', 'stream.m3u8'), '#EXTM3U\n');
  await symlink('../canary.txt', join(hlsDir, TRAPS.relativeSymlink));
  await symlink(layout.canaries[0]!, join(hlsDir, TRAPS.absoluteSymlink));
  await link(layout.canaries[1]!, join(hlsDir, TRAPS.hardLink));
  await symlink(layout.root, join(hlsDir, TRAPS.symlinkToFolder));
  await mkdir(join(hlsDir, TRAPS.folder));
  execFileSync('mkfifo', [join(hlsDir, TRAPS.fifo)]);
}
