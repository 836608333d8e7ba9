/**
 * One simulated Low-Latency HLS viewer, as hls.js behaves in low-latency mode: the playlist once,
 * the init segment, the last parts (its start, PART-HOLD-BACK behind the edge), then forever a
 * blocking reload for the part after the last one listed (`_HLS_msn`, `_HLS_part`, delta updates
 * with `_HLS_skip=YES`) while the preload-hinted part is fetched at the same time, and every listed
 * part it does not have yet. Two keep-alive connections: one for playlists, one for media. Records
 * when each playlist version and each part arrived (epoch ms, sub-millisecond), so the generator can
 * tell how late each viewer had it compared with the first.
 */
import { Agent, request } from 'node:http';
import { parseMediaPlaylist, type MediaPlaylist, type PlaylistPart } from '../lib/playlist.js';

/** What a viewer tells: arrivals keyed by playlist version (`msn.part` of its last part) and by part URI. */
export interface ViewerSink {
  playlist(version: string, at: number): void;
  part(uri: string, at: number, bytes: number): void;
  request(kind: 'playlist' | 'part' | 'init' | 'segment', bytes: number): void;
  error(kind: string): void;
}

/** A request longer than this failed (the service holds a blocking request three target durations at most). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Parts fetched at the start: about PART-HOLD-BACK behind the edge, as hls.js starts. */
const START_PARTS = 3;

/** Epoch milliseconds with sub-millisecond resolution, comparable between processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now();

export class HttpError extends Error {
  constructor(readonly kind: string) {
    super(kind);
  }
}

export function get(url: URL, agent: Agent, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, signal, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode === 200) resolve(Buffer.concat(chunks));
        else reject(new HttpError(`HTTP ${res.statusCode}`));
      });
      res.on('error', () => reject(new HttpError('response error')));
    });
    req.on('timeout', () => req.destroy(new HttpError('timeout')));
    req.on('error', (err) =>
      reject(err instanceof HttpError ? err : new HttpError((err as NodeJS.ErrnoException).code ?? err.name)),
    );
    req.end();
  });
}

const partKey = (part: Pick<PlaylistPart, 'msn' | 'index'>) => `${part.msn}.${part.index}`;

export class SimulatedViewer {
  readonly #playlistUrl: URL;
  readonly #sink: ViewerSink;
  readonly #signal: AbortSignal;
  /** One connection each, kept alive: the playlist's and the media's, as a browser keeps two. */
  readonly #playlistAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly #mediaAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  /** Parts asked for (fetched or in flight), by URI. */
  readonly #asked = new Set<string>();
  #mediaQueue: Promise<void> = Promise.resolve();
  /** The EXT-X-MAP in use. */
  #map: string | undefined;

  constructor(playlistUrl: URL, sink: ViewerSink, signal: AbortSignal) {
    this.#playlistUrl = playlistUrl;
    this.#sink = sink;
    this.#signal = signal;
  }

  /** Runs until the signal aborts; an error is counted and the viewer starts over after a pause, as a player retries. */
  async run(): Promise<void> {
    try {
      while (!this.#signal.aborted) {
        try {
          await this.#play();
        } catch (err) {
          if (this.#signal.aborted) break;
          this.#sink.error(err instanceof HttpError ? err.kind : String(err));
          this.#asked.clear();
          this.#map = undefined;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    } finally {
      this.#playlistAgent.destroy();
      this.#mediaAgent.destroy();
    }
  }

  async #play(): Promise<void> {
    let playlist = await this.#loadPlaylist(undefined);
    if (this.#map) this.#media(this.#map, 'init');
    for (const part of playlist.parts.slice(-START_PARTS)) this.#media(part.uri, 'part');
    while (!this.#signal.aborted) {
      const last = playlist.parts.at(-1);
      const next = last
        ? { msn: last.msn, part: last.index + 1 }
        : { msn: playlist.mediaSequence + playlist.segments.length, part: 0 };
      if (playlist.preloadHint && !this.#asked.has(playlist.preloadHint))
        this.#media(playlist.preloadHint, 'part');
      playlist = await this.#loadPlaylist(next);
      for (const part of playlist.parts) {
        if (last && (part.msn < last.msn || (part.msn === last.msn && part.index <= last.index))) continue;
        if (!this.#asked.has(part.uri)) this.#media(part.uri, 'part');
      }
      this.#forgetOld(playlist);
    }
  }

  async #loadPlaylist(next: { msn: number; part: number } | undefined): Promise<MediaPlaylist> {
    const url = new URL(this.#playlistUrl);
    if (next) {
      url.searchParams.set('_HLS_msn', String(next.msn));
      url.searchParams.set('_HLS_part', String(next.part));
      url.searchParams.set('_HLS_skip', 'YES');
    }
    const body = await get(url, this.#playlistAgent, this.#signal);
    const at = now();
    const text = body.toString('utf8');
    const playlist = parseMediaPlaylist(text);
    // The open segment's EXT-X-MAP too (parseMediaPlaylist gives complete segments' only).
    const maps = [...text.matchAll(/#EXT-X-MAP:URI="([^"]+)"/g)];
    const map = maps.at(-1)?.[1];
    if (map && map !== this.#map) {
      // A new init segment (a restarted stream): fetched before the parts that need it.
      if (this.#map !== undefined) this.#media(map, 'init');
      this.#map = map;
    }
    const last = playlist.parts.at(-1);
    if (last) this.#sink.playlist(partKey(last), at);
    this.#sink.request('playlist', body.length);
    return playlist;
  }

  /** Media on its own connection, one request after another (the hinted part first, as it was asked first). */
  #media(uri: string, kind: 'part' | 'init'): void {
    this.#asked.add(uri);
    const url = new URL(uri, this.#playlistUrl);
    this.#mediaQueue = this.#mediaQueue.then(async () => {
      if (this.#signal.aborted) return;
      try {
        const body = await get(url, this.#mediaAgent, this.#signal);
        if (kind === 'part') this.#sink.part(uri, now(), body.length);
        this.#sink.request(kind, body.length);
      } catch (err) {
        if (!this.#signal.aborted)
          this.#sink.error(err instanceof HttpError ? `${kind}: ${err.kind}` : String(err));
      }
    });
  }

  /** URIs no longer listed are never asked again: the set stays the size of the playlist. */
  #forgetOld(playlist: MediaPlaylist): void {
    if (this.#asked.size < 64) return;
    const listed = new Set(playlist.parts.map((p) => p.uri));
    if (playlist.preloadHint) listed.add(playlist.preloadHint);
    for (const uri of this.#asked) if (!listed.has(uri)) this.#asked.delete(uri);
  }
}
