/**
 * Waits until the playlist in HLS_DIR is playable: chokidar reports each time ffmpeg writes it (its
 * temp_file flag renames a finished file into place), and the playlist is read and parsed then.
 * Also checked once when the watch is ready, in case it was playable before. No polling.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { watch } from 'chokidar';
import type { FastifyBaseLogger } from 'fastify';
import { PLAYLIST_NAME } from '../outputs/names.js';
import { isPlayable, parsePlaylist, type MediaPlaylist } from '../segmenter/playlist.js';

export interface WaitOptions {
  readonly signal: AbortSignal;
  /** Only segments this accepts count (e.g. those of the current segmenter run). */
  readonly acceptSegment?: (uri: string) => boolean;
}

export class PlaylistWatcher {
  readonly #dir: string;
  readonly #log: FastifyBaseLogger;

  constructor(hlsDir: string, logger: FastifyBaseLogger) {
    this.#dir = hlsDir;
    this.#log = logger;
  }

  get playlistPath(): string {
    return join(this.#dir, PLAYLIST_NAME);
  }

  /** The playlist as it is now; undefined if missing or not a media playlist. */
  async read(): Promise<MediaPlaylist | undefined> {
    const text = await this.#readText();
    return text === undefined ? undefined : parsePlaylist(text);
  }

  async #readText(): Promise<string | undefined> {
    try {
      return await readFile(this.playlistPath, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Resolves when the playlist lists a complete segment; rejects with `signal.reason` on abort. */
  async waitUntilPlayable({ signal, acceptSegment }: WaitOptions): Promise<void> {
    signal.throwIfAborted();
    // Only the playlist matters: segments and ffmpeg's .tmp files are not watched.
    const watcher = watch(this.#dir, {
      depth: 0,
      ignored: (path) => path !== this.#dir && basename(path) !== PLAYLIST_NAME,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const finish = (err?: unknown) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          if (err === undefined) resolve();
          else reject(err);
        };
        const onAbort = () => finish(signal.reason);
        const check = async () => {
          const text = await this.#readText();
          if (text !== undefined && isPlayable(text, acceptSegment)) finish();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        watcher.on('add', () => void check());
        watcher.on('change', () => void check());
        watcher.on('ready', () => void check());
        watcher.on('error', (err) => {
          this.#log.error({ err }, 'playlist watch failed');
          finish(err);
        });
      });
    } finally {
      await watcher.close();
    }
  }
}
