/**
 * The live playlist as a player sees it: parsed (pure), and watched on disk so the moment each
 * segment is first listed is known to within one poll interval.
 */
import { copyFile, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface PlaylistSegment {
  seq: number;
  uri: string;
  /** EXTINF, seconds. */
  duration: number;
  /** EXT-X-PROGRAM-DATE-TIME of the segment, epoch ms, when the packager writes one. */
  programDateTime?: number;
}

export interface MediaPlaylist {
  targetDuration?: number;
  mediaSequence: number;
  segments: PlaylistSegment[];
  endList: boolean;
}

/** A media playlist (RFC 8216 §4.3) as far as the report needs it. */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const playlist: MediaPlaylist = { mediaSequence: 0, segments: [], endList: false };
  let duration: number | undefined;
  let pdt: number | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#EXT-X-TARGETDURATION:')) playlist.targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) playlist.mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line === '#EXT-X-ENDLIST') playlist.endList = true;
    else if (!line.startsWith('#') && duration !== undefined) {
      playlist.segments.push({
        seq: playlist.mediaSequence + playlist.segments.length,
        uri: line,
        duration,
        ...(pdt !== undefined && Number.isFinite(pdt) && { programDateTime: pdt }),
      });
      duration = undefined;
      pdt = undefined;
    }
  }
  return playlist;
}

export interface SegmentRecord extends PlaylistSegment {
  /** Epoch ms of the first poll that saw the segment listed. */
  listedAt: number;
  /** Where a copy was kept (for reading its first frame afterwards). */
  copy?: string;
}

/** Polls a playlist file; records each segment's first listing; can keep copies of the segments. */
export class PlaylistWatcher {
  readonly segments: SegmentRecord[] = [];
  targetDuration: number | undefined;
  readonly #path: string;
  readonly #intervalMs: number;
  #keepDir: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #seen = new Set<string>();
  readonly #waiters: (() => void)[] = [];
  readonly #copies: Promise<unknown>[] = [];

  constructor(path: string, intervalMs = 20) {
    this.#path = path;
    this.#intervalMs = intervalMs;
    void this.#poll();
  }

  /** From now on, copy each newly listed segment into `dir` (ours and the peer delete old ones). */
  keepSegmentsIn(dir: string | undefined): void {
    this.#keepDir = dir;
  }

  /** Epoch ms the first segment was listed; rejects after `timeoutMs`. */
  firstListed(timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.segments.length === 0) return false;
        clearTimeout(timer);
        resolve(this.segments[0]!.listedAt);
        return true;
      };
      const timer = setTimeout(
        () => reject(new Error(`no segment listed in ${this.#path} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (!check()) this.#waiters.push(check);
    });
  }

  async stop(): Promise<SegmentRecord[]> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.allSettled(this.#copies);
    return this.segments;
  }

  async #poll(): Promise<void> {
    if (this.#stopped) return;
    let text: string | undefined;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch {
      // not there yet (or being replaced)
    }
    const now = Date.now();
    if (text !== undefined) {
      const playlist = parseMediaPlaylist(text);
      this.targetDuration = playlist.targetDuration ?? this.targetDuration;
      for (const segment of playlist.segments) {
        if (this.#seen.has(segment.uri)) continue;
        this.#seen.add(segment.uri);
        const record: SegmentRecord = { ...segment, listedAt: now };
        if (this.#keepDir !== undefined) {
          const copy = join(this.#keepDir, `${segment.seq}-${basename(segment.uri)}`);
          record.copy = copy;
          this.#copies.push(
            copyFile(join(dirname(this.#path), segment.uri), copy).catch(() => {
              delete record.copy; // already deleted by the packager
            }),
          );
        }
        this.segments.push(record);
      }
      if (this.segments.length > 0) this.#waiters.splice(0).forEach((wake) => wake());
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#poll(), this.#intervalMs);
  }
}
