/**
 * The files in HLS_DIR. Only names the segmenter makes are ever removed (names.ts): HLS_DIR may be a
 * folder that also holds someone else's files.
 */
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { isValidCameraId } from '@camstream/protocol';
import { isOwnedName, isSegmentName } from '../names.js';

export class HlsFiles {
  readonly dir: string;
  readonly #log: FastifyBaseLogger;

  constructor(dir: string, logger: FastifyBaseLogger) {
    this.dir = dir;
    this.#log = logger;
  }

  /** Creates the folder if needed and removes every playlist, segment and temp file in it. */
  async clear(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.#remove(isOwnedName);
  }

  /**
   * The sequence number after the highest segment on disk (finished or .tmp). A segmenter stopped
   * while ffmpeg blocks on a silent input may leave its last playlist empty; the files still tell.
   */
  async nextSegmentNumber(): Promise<number> {
    let next = 0;
    for (const name of await this.#names()) {
      const base = name.endsWith('.tmp') ? name.slice(0, -4) : name;
      if (!isSegmentName(base)) continue;
      next = Math.max(next, Number(/-(\d+)\.ts$/.exec(base)![1]) + 1);
    }
    return next;
  }

  /** Removes the segments of earlier segmenter runs (after a restart). */
  async removeSegmentsExcept(streamId: string): Promise<void> {
    await this.#remove((name) => {
      const base = name.endsWith('.tmp') ? name.slice(0, -4) : name;
      return isSegmentName(base) && !base.startsWith(`${streamId}-`);
    });
  }

  async #names(): Promise<string[]> {
    try {
      return await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async #remove(select: (name: string) => boolean): Promise<void> {
    const names = await this.#names();
    await Promise.all(
      names.filter(select).map(async (name) => {
        try {
          await rm(join(this.dir, name), { force: true });
        } catch (err) {
          this.#log.warn({ err, name }, 'could not remove an HLS file');
        }
      }),
    );
  }
}

/**
 * At boot: what a service that did not shut down cleanly left in HLS_DIR (the default camera's
 * files) and in its camera folders (HLS_DIR/<id>/, only names the segmenter makes). A folder left
 * empty is removed; anyone else's files and folders stay.
 */
export async function clearLeftovers(hlsDir: string, logger: FastifyBaseLogger): Promise<void> {
  await new HlsFiles(hlsDir, logger).clear();
  for (const entry of await readdir(hlsDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !isValidCameraId(entry.name)) continue;
    const folder = join(hlsDir, entry.name);
    await new HlsFiles(folder, logger).clear();
    await rmdir(folder).catch(() => {}); // not empty: someone else's files are in it
  }
}
