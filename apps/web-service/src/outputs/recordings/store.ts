/**
 * Every camera's recordings, one index for the service: filled from RECORD_DIR at boot (a recording
 * a crash left open is closed there: its playlist becomes VOD with EXT-X-ENDLIST), kept up to date by
 * the cameras' recorders (output.ts), read by the routes (routes/recordings.ts) and by retention.
 *
 * On disk: RECORD_DIR/<camera>/<YYYY-MM-DD>/<HH-MM-SS.mmm>Z/ (UTC start time) with playlist.m3u8,
 * the init segments and the fMP4 segments. A recording's id names that folder:
 * `<camera>~<YYYY-MM-DD>~<HH-MM-SS.mmm>Z`; only such names are read or removed.
 */
import { readdir, readFile, rm, rmdir, stat, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { isValidCameraId } from '@camstream/protocol';
import { DATE, parseRecordingId } from './ids.js';
import { parseRecordingPlaylist, RECORDING_PLAYLIST, renderRecordingPlaylist } from './playlist.js';

export interface RecordingEntry {
  readonly id: string;
  readonly cameraId: string;
  /** ms since the epoch. */
  readonly startMs: number;
  endMs: number;
  /** Seconds of video. */
  duration: number;
  bytes: number;
  /** Still being written by a recorder. */
  recording: boolean;
  /** Its folder. */
  readonly dir: string;
}

export interface RecordingFilter {
  readonly cameraId?: string;
  /** Recordings that overlap [fromMs, toMs]. */
  readonly fromMs?: number;
  readonly toMs?: number;
}

export class RecordingStore {
  readonly dir: string;
  readonly #log: FastifyBaseLogger;
  readonly #entries = new Map<string, RecordingEntry>();

  constructor(dir: string, logger: FastifyBaseLogger) {
    this.dir = dir;
    this.#log = logger.child({ component: 'recordings' });
  }

  /** Where a recording's files go. */
  folderOf(cameraId: string, date: string, time: string): string {
    return join(this.dir, cameraId, date, time);
  }

  /** At boot: the index from RECORD_DIR; recordings left open by a crash are closed (VOD, ENDLIST). */
  async scan(): Promise<void> {
    for (const cameraId of await names(this.dir)) {
      if (!isValidCameraId(cameraId)) continue;
      for (const date of await names(join(this.dir, cameraId))) {
        if (!DATE.test(date)) continue;
        for (const time of await names(join(this.dir, cameraId, date))) {
          const id = `${cameraId}~${date}~${time}`;
          if (!parseRecordingId(id) || this.#entries.has(id)) continue;
          try {
            const entry = await this.#read(id);
            if (entry) this.#entries.set(id, entry);
          } catch (err) {
            this.#log.warn({ err, id }, 'a recording could not be read: left as it is');
          }
        }
      }
    }
    this.#log.info({ recordings: this.#entries.size, dir: this.dir }, 'recordings indexed');
  }

  add(entry: RecordingEntry): void {
    this.#entries.set(entry.id, entry);
  }

  get(id: string): RecordingEntry | undefined {
    return this.#entries.get(id);
  }

  /** Oldest first. */
  list(filter: RecordingFilter = {}): RecordingEntry[] {
    const { cameraId, fromMs = -Infinity, toMs = Infinity } = filter;
    return [...this.#entries.values()]
      .filter((entry) => cameraId === undefined || entry.cameraId === cameraId)
      .filter((entry) => entry.endMs >= fromMs && entry.startMs <= toMs)
      .sort((a, b) => a.startMs - b.startMs || a.id.localeCompare(b.id));
  }

  /** Deletes a recording's folder (and its date and camera folders once empty). */
  async remove(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (entry) await this.discard(entry);
  }

  /** Deletes a recording's files, listed or not (a recorder's that got no segment). */
  async discard(entry: RecordingEntry): Promise<void> {
    this.#entries.delete(entry.id);
    await rm(entry.dir, { recursive: true, force: true });
    const parsed = parseRecordingId(entry.id)!;
    await rmdir(join(this.dir, parsed.cameraId, parsed.date)).catch(() => {});
    await rmdir(join(this.dir, parsed.cameraId)).catch(() => {});
  }

  async #read(id: string): Promise<RecordingEntry | undefined> {
    const { cameraId, date, time, startMs } = parseRecordingId(id)!;
    const dir = this.folderOf(cameraId, date, time);
    const playlistPath = join(dir, RECORDING_PLAYLIST);
    let text: string;
    try {
      text = await readFile(playlistPath, 'utf8');
    } catch {
      return undefined; // no playlist: not a recording (or one that never got a segment)
    }
    const playlist = parseRecordingPlaylist(text);
    if (!playlist.ended) {
      // Left open by a service that did not stop cleanly: what it wrote is the recording.
      await writeFile(`${playlistPath}.tmp`, renderRecordingPlaylist(playlist.segments, true));
      await rename(`${playlistPath}.tmp`, playlistPath);
      this.#log.info({ id }, 'a recording left open was closed');
    }
    let bytes = 0;
    for (const name of await names(dir)) bytes += (await stat(join(dir, name))).size;
    const duration = playlist.segments.reduce((sum, segment) => sum + segment.duration, 0);
    const last = playlist.segments.at(-1);
    const endMs =
      last && Number.isFinite(last.programDateTime)
        ? last.programDateTime + last.duration * 1000
        : startMs + duration * 1000;
    return { id, cameraId, startMs, endMs, duration, bytes, recording: false, dir };
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    // Gone, or a file where a folder of ours would be (someone else's): nothing of ours in it.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}
