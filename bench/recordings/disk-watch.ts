/**
 * When each file of a recording reaches the disk, seen from outside the service: inotify (fs.watch)
 * on the camera's date folder finds the recording's folder as it is made, then reports each change
 * to a file in it. A segment is written in one writeFile; its last change is when its bytes are in.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Wall-clock ms with sub-ms precision, comparable with the service's Date.now(). */
export const wallMs = () => performance.timeOrigin + performance.now();

export class DiskWatch {
  /** File name → the last change seen (wall ms). */
  readonly changes = new Map<string, number>();
  readonly #watchers: FSWatcher[] = [];

  private constructor() {}

  /**
   * Watches RECORD_DIR/<camera>/<today, UTC>/ (made here if need be: the recorder's own mkdir is
   * recursive) for the next recording's folder.
   */
  static async start(recordDir: string, cameraId: string): Promise<DiskWatch> {
    const dateDir = join(recordDir, cameraId, new Date().toISOString().slice(0, 10));
    await mkdir(dateDir, { recursive: true });
    const disk = new DiskWatch();
    const seen = new Set<string>();
    disk.#watchers.push(
      watch(dateDir, (_, name) => {
        if (name === null || seen.has(name) || !/^\d{2}-\d{2}-\d{2}\.\d{3}Z$/.test(name)) return;
        seen.add(name);
        disk.#watchers.push(
          watch(join(dateDir, name), (__, file) => {
            if (file !== null) disk.changes.set(file, wallMs());
          }),
        );
      }),
    );
    return disk;
  }

  close(): void {
    for (const watcher of this.#watchers.splice(0)) watcher.close();
  }
}
