/**
 * Watches a live playlist and records when each segment and each part is first listed, to within
 * one poll (a file on disk: every 20 ms) or at once (LL-HLS over HTTP: blocking reloads, answered as
 * soon as the next part exists). It can keep a copy of each segment (the packagers delete old ones);
 * an fMP4 segment's copy starts with its init segment, so ffmpeg can decode it alone.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  parseMediaPlaylist,
  type MediaPlaylist,
  type PlaylistPart,
  type PlaylistSegment,
} from './playlist.js';

export interface SegmentRecord extends PlaylistSegment {
  /** Epoch ms of the first read that saw the segment listed. */
  listedAt: number;
  /** Where a copy was kept (for reading its first frame afterwards). */
  copy?: string;
  /** The segment's size (without its init segment), when a copy was kept. */
  bytes?: number;
}

export interface PartRecord extends PlaylistPart {
  /** Epoch ms of the first read that saw the part listed. */
  listedAt: number;
}

/** A blocking reload's delivery directives (RFC 8216bis §6.2.5.2): `_HLS_msn`, `_HLS_part`. */
interface Until {
  msn: number;
  part?: number;
}

/** Where the playlist and its media come from. */
interface PlaylistSource {
  readonly where: string;
  /**
   * The playlist text, undefined when there is none (yet). `until`: a source that can block answers
   * once segment `msn` is complete, or with `part`, once that part (or a later one) is listed.
   */
  read(until: Until | undefined, signal: AbortSignal): Promise<string | undefined>;
  /** The bytes of a URI from the playlist. */
  media(uri: string, signal: AbortSignal): Promise<Buffer>;
}

function diskSource(path: string): PlaylistSource {
  return {
    where: path,
    read: () => readFile(path, 'utf8').catch(() => undefined), // not there yet (or being replaced)
    media: (uri) => readFile(join(dirname(path), uri)),
  };
}

/** Blocking reloads cannot take longer than this (the service holds one for 3 target durations). */
const HTTP_TIMEOUT_MS = 10_000;

function httpSource(url: string): PlaylistSource {
  const timed = (signal: AbortSignal) => AbortSignal.any([signal, AbortSignal.timeout(HTTP_TIMEOUT_MS)]);
  return {
    where: url,
    async read(until, signal) {
      const target = new URL(url);
      if (until) {
        target.searchParams.set('_HLS_msn', String(until.msn));
        if (until.part !== undefined) target.searchParams.set('_HLS_part', String(until.part));
      }
      try {
        const response = await fetch(target, { signal: timed(signal) });
        const text = await response.text();
        return response.ok ? text : undefined; // 404: no stream yet; 503: a blocking reload timed out
      } catch {
        return undefined; // aborted, or the service is restarting
      }
    },
    async media(uri, signal) {
      const response = await fetch(new URL(uri, url), { signal: timed(signal) });
      if (!response.ok) throw new Error(`GET ${uri}: ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    },
  };
}

export class PlaylistWatcher {
  readonly segments: SegmentRecord[] = [];
  readonly parts: PartRecord[] = [];
  targetDuration: number | undefined;
  partTarget: number | undefined;
  partHoldBack: number | undefined;
  holdBack: number | undefined;
  /** Playlist reads that returned a playlist. */
  reads = 0;
  readonly #source: PlaylistSource;
  readonly #intervalMs: number;
  readonly #blocking: boolean;
  readonly #stop = new AbortController();
  #keepDir: string | undefined;
  readonly #timers = new Map<'part' | 'segment', NodeJS.Timeout>();
  #latest: MediaPlaylist | undefined;
  readonly #seenSegments = new Set<string>();
  readonly #seenParts = new Set<string>();
  readonly #waiters = new Set<() => boolean>();
  readonly #copies: Promise<unknown>[] = [];
  readonly #inits = new Map<string, Promise<Buffer>>();

  private constructor(source: PlaylistSource, intervalMs: number, blocking: boolean) {
    this.#source = source;
    this.#intervalMs = intervalMs;
    this.#blocking = blocking;
    void this.#poll('part', undefined);
    if (blocking) void this.#poll('segment', undefined);
  }

  /** A playlist file, read every `intervalMs` (plain HLS: ffmpeg's hls muxer, nginx-rtmp). */
  static onDisk(path: string, intervalMs = 20): PlaylistWatcher {
    return new PlaylistWatcher(diskSource(path), intervalMs, false);
  }

  /**
   * A playlist over HTTP: read every `intervalMs` until it exists, then, when the server offers them
   * (CAN-BLOCK-RELOAD=YES), with two blocking reloads at a time: one for the next part, as an LL-HLS
   * player does, and one for the next complete segment (a player asking for the part after a
   * segment's last one is answered with the next segment's first part, a part later).
   */
  static overHttp(url: string, intervalMs = 20): PlaylistWatcher {
    return new PlaylistWatcher(httpSource(url), intervalMs, true);
  }

  /** From now on, copy each newly listed segment into `dir` (the packagers delete old ones). */
  keepSegmentsIn(dir: string | undefined): void {
    this.#keepDir = dir;
  }

  /** Epoch ms the first complete segment was listed; rejects after `timeoutMs`. */
  firstListed(timeoutMs: number): Promise<number> {
    return this.#first(() => this.segments[0]?.listedAt, 'segment', timeoutMs);
  }

  /** Epoch ms the first part (LL-HLS) was listed; rejects after `timeoutMs`. */
  firstPartListed(timeoutMs: number): Promise<number> {
    return this.#first(() => this.parts[0]?.listedAt, 'part', timeoutMs);
  }

  /** What the newest playlist lists: its complete segments, and their bytes when all were copied. */
  listedNow(): { segments: number; bytes?: number } | undefined {
    const playlist = this.#latest;
    if (!playlist) return undefined;
    const sizes = playlist.segments.map((s) => this.segments.find((r) => r.uri === s.uri)?.bytes);
    const known = sizes.every((size) => size !== undefined);
    return {
      segments: playlist.segments.length,
      ...(known && { bytes: sizes.reduce<number>((sum, size) => sum + size!, 0) }),
    };
  }

  async stop(): Promise<SegmentRecord[]> {
    this.#stop.abort();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    await Promise.allSettled(this.#copies);
    return this.segments;
  }

  #first(pick: () => number | undefined, what: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const at = pick();
        if (at === undefined) return false;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(at);
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no ${what} listed in ${this.#source.where} within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) this.#waiters.add(check);
    });
  }

  async #poll(kind: 'part' | 'segment', until: Until | undefined): Promise<void> {
    if (this.#stop.signal.aborted) return;
    const text = await this.#source.read(until, this.#stop.signal);
    const now = Date.now();
    if (this.#stop.signal.aborted) return;
    let next: Until | undefined;
    if (text !== undefined) {
      const playlist = parseMediaPlaylist(text);
      this.reads += 1;
      this.#latest = playlist;
      this.targetDuration = playlist.targetDuration ?? this.targetDuration;
      this.partTarget = playlist.partTarget ?? this.partTarget;
      this.partHoldBack = playlist.partHoldBack ?? this.partHoldBack;
      this.holdBack = playlist.holdBack ?? this.holdBack;
      this.#record(playlist, now);
      if (this.#blocking && playlist.canBlockReload) next = this.#nextWanted(kind, playlist);
    }
    // A blocking reload that asks for something new goes at once (the server holds it); else a poll later.
    const advanced = next !== undefined && (next.msn !== until?.msn || next.part !== until.part);
    this.#timers.set(
      kind,
      setTimeout(() => void this.#poll(kind, next), advanced ? 0 : this.#intervalMs),
    );
  }

  /** The part after the newest (past a segment's last part, the server reads it as the next segment's first), or the next segment. */
  #nextWanted(kind: 'part' | 'segment', playlist: MediaPlaylist): Until | undefined {
    const newestPart = playlist.parts.at(-1);
    if (kind === 'part') return newestPart && { msn: newestPart.msn, part: newestPart.index + 1 };
    const newestSegment = playlist.segments.at(-1);
    if (newestSegment) return { msn: newestSegment.seq + 1 };
    return newestPart && { msn: newestPart.msn };
  }

  /** Records what is new in `playlist`. */
  #record(playlist: MediaPlaylist, now: number): void {
    let grew = false;
    for (const part of playlist.parts) {
      if (this.#seenParts.has(part.uri)) continue;
      this.#seenParts.add(part.uri);
      this.parts.push({ ...part, listedAt: now });
      grew = true;
    }
    for (const segment of playlist.segments) {
      if (this.#seenSegments.has(segment.uri)) continue;
      this.#seenSegments.add(segment.uri);
      const record: SegmentRecord = { ...segment, listedAt: now };
      if (this.#keepDir !== undefined) this.#copies.push(this.#keep(record, this.#keepDir));
      this.segments.push(record);
      grew = true;
    }
    if (grew) for (const wake of [...this.#waiters]) wake();
  }

  /** Copies go on after stop() (which waits for them): the last segments get their stamps too. */
  async #keep(record: SegmentRecord, dir: string): Promise<void> {
    const signal = new AbortController().signal;
    try {
      const media = await this.#source.media(record.uri, signal);
      let init: Buffer | undefined;
      if (record.mapUri !== undefined) {
        const mapUri = record.mapUri;
        let pending = this.#inits.get(mapUri);
        if (!pending) {
          pending = this.#source.media(mapUri, signal);
          this.#inits.set(mapUri, pending);
          pending.catch(() => this.#inits.delete(mapUri));
        }
        init = await pending;
      }
      const copy = join(dir, `${record.seq}-${basename(record.uri)}${init ? '.mp4' : ''}`);
      await writeFile(copy, init ? Buffer.concat([init, media]) : media);
      record.copy = copy;
      record.bytes = media.length;
    } catch {
      // already deleted by the packager: this segment gets no stamp
    }
  }
}
