/**
 * The plain HLS output's files in HLS_DIR (or HLS_DIR/<id>/). Only names the output makes are ever
 * removed (names.ts): HLS_DIR may be a folder that also holds someone else's files.
 */
import { mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { isValidCameraId } from '@camstream/protocol';
import { isOwnedName, tempName } from '../names.js';

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

  /** Writes a file under a temporary name and renames it into place: never seen half written. */
  async write(name: string, data: Buffer | string): Promise<void> {
    const path = join(this.dir, name);
    await writeFile(join(this.dir, tempName(name)), data);
    await rename(join(this.dir, tempName(name)), path);
  }

  /** Removes files by name: only names of ours (names.ts). */
  async remove(names: readonly string[]): Promise<void> {
    await this.#remove((name) => isOwnedName(name) && names.includes(name), names);
  }

  async #names(): Promise<string[]> {
    try {
      return await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async #remove(select: (name: string) => boolean, known?: readonly string[]): Promise<void> {
    const names = known ?? (await this.#names());
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
 * files) and in its camera folders (HLS_DIR/<id>/, only names the output makes). A folder left
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
