/**
 * One simulated Low-Latency HLS viewer, as hls.js behaves in low-latency mode: the playlist once,
 * the init segment, the last parts (its start, PART-HOLD-BACK behind the edge), then forever a
 * blocking reload for the part after the last one listed (`_HLS_msn`, `_HLS_part`, delta updates
 * with `_HLS_skip=YES`) while the preload-hinted part is fetched at the same time, and every listed
 * part it does not have yet. Two keep-alive connections: one for playlists, one for media
 * (http-client.ts). Records when each playlist version and each part arrived (epoch ms,
 * sub-millisecond), so the generator can tell how late each viewer had it compared with the first.
 */
import { parseMediaPlaylist, type MediaPlaylist } from '../lib/playlist.js';
import { HttpConnection, HttpError } from './http-client.js';

export { HttpError } from './http-client.js';

/** What a viewer tells: arrivals keyed by playlist version (`msn.part` of its last part) and by part URI. */
export interface ViewerSink {
  playlist(version: string, at: number): void;
  part(uri: string, at: number, bytes: number): void;
  request(kind: 'playlist' | 'part' | 'init' | 'segment', bytes: number): void;
  error(kind: string): void;
}

/** Parts fetched at the start: about PART-HOLD-BACK behind the edge, as hls.js starts. */
const START_PARTS = 3;

/** Epoch milliseconds with sub-millisecond resolution, comparable between processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now();

/** A playlist as a viewer uses it, parsed once per distinct text in this process (see `readPlaylist`). */
export interface ViewedPlaylist {
  readonly playlist: MediaPlaylist;
  /** `msn.part` of its last part: the version's key. */
  readonly version: string | undefined;
  /** The EXT-X-MAP in use (the open segment's too, which parseMediaPlaylist leaves out). */
  readonly map: string | undefined;
  /** Every part URI listed and the hint: what a viewer may still ask for. */
  readonly listed: ReadonlySet<string>;
}

const parsed = new Map<string, ViewedPlaylist>();

/**
 * Every viewer of a process gets the same few texts (one per playlist version and variant): each is
 * parsed once, the rest is a lookup.
 */
export function readPlaylist(text: string): ViewedPlaylist {
  let viewed = parsed.get(text);
  if (viewed) return viewed;
  const playlist = parseMediaPlaylist(text);
  const last = playlist.parts.at(-1);
  const listed = new Set(playlist.parts.map((part) => part.uri));
  if (playlist.preloadHint) listed.add(playlist.preloadHint);
  viewed = {
    playlist,
    version: last ? `${last.msn}.${last.index}` : undefined,
    map: [...text.matchAll(/#EXT-X-MAP:URI="([^"]+)"/g)].at(-1)?.[1],
    listed,
  };
  if (parsed.size >= 32) parsed.delete(parsed.keys().next().value!);
  parsed.set(text, viewed);
  return viewed;
}

/** The path (and query) of `uri` as the playlist at `base` refers to it. */
export function resolvePath(base: URL, uri: string): string {
  if (!uri.includes(':') && !uri.startsWith('/')) {
    return `${base.pathname.slice(0, base.pathname.lastIndexOf('/') + 1)}${uri}`;
  }
  const url = new URL(uri, base);
  return `${url.pathname}${url.search}`;
}

/** One GET on `connection`; the body kept. For the tests and the polling viewer. */
export async function get(connection: HttpConnection, path: string): Promise<Buffer> {
  return (await connection.get(path, true)).body ?? Buffer.alloc(0);
}

export class SimulatedViewer {
  readonly #playlistUrl: URL;
  readonly #sink: ViewerSink;
  readonly #signal: AbortSignal;
  /** One connection each, kept alive: the playlist's and the media's, as a browser keeps two. */
  readonly #playlists: HttpConnection;
  readonly #media: HttpConnection;
  /** Parts asked for (fetched or in flight), by URI. */
  readonly #asked = new Set<string>();
  /** The EXT-X-MAP in use. */
  #map: string | undefined;
  /** The playlist's path and query, and the folder its relative URIs are in. */
  readonly #playlistPath: string;
  readonly #folder: string;

  constructor(playlistUrl: URL, sink: ViewerSink, signal: AbortSignal) {
    this.#playlistUrl = playlistUrl;
    this.#playlistPath = `${playlistUrl.pathname}${playlistUrl.search}`;
    this.#folder = playlistUrl.pathname.slice(0, playlistUrl.pathname.lastIndexOf('/') + 1);
    this.#sink = sink;
    this.#signal = signal;
    this.#playlists = new HttpConnection(playlistUrl);
    this.#media = new HttpConnection(playlistUrl);
  }

  /** Runs until the signal aborts; an error is counted and the viewer starts over after a pause, as a player retries. */
  async run(): Promise<void> {
    const stop = () => {
      this.#playlists.close();
      this.#media.close();
    };
    this.#signal.addEventListener('abort', stop, { once: true });
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
      this.#signal.removeEventListener('abort', stop);
      stop();
    }
  }

  async #play(): Promise<void> {
    let viewed = await this.#loadPlaylist(undefined);
    if (this.#map) this.#fetch(this.#map, 'init');
    for (const part of viewed.playlist.parts.slice(-START_PARTS)) this.#fetch(part.uri, 'part');
    while (!this.#signal.aborted) {
      const { playlist } = viewed;
      const last = playlist.parts.at(-1);
      const next = last
        ? { msn: last.msn, part: last.index + 1 }
        : { msn: playlist.mediaSequence + playlist.segments.length, part: 0 };
      if (playlist.preloadHint && !this.#asked.has(playlist.preloadHint))
        this.#fetch(playlist.preloadHint, 'part');
      viewed = await this.#loadPlaylist(next);
      for (const part of viewed.playlist.parts) {
        if (last && (part.msn < last.msn || (part.msn === last.msn && part.index <= last.index))) continue;
        if (!this.#asked.has(part.uri)) this.#fetch(part.uri, 'part');
      }
      this.#forgetOld(viewed);
    }
  }

  async #loadPlaylist(next: { msn: number; part: number } | undefined): Promise<ViewedPlaylist> {
    let path = this.#playlistPath;
    if (next) {
      path += `${this.#playlistUrl.search ? '&' : '?'}_HLS_msn=${next.msn}&_HLS_part=${next.part}&_HLS_skip=YES`;
    }
    const { body } = await this.#playlists.get(path, true);
    const at = now();
    const viewed = readPlaylist(body!.toString('utf8'));
    if (viewed.map && viewed.map !== this.#map) {
      // A new init segment (a restarted stream): fetched before the parts that need it.
      if (this.#map !== undefined) this.#fetch(viewed.map, 'init');
      this.#map = viewed.map;
    }
    if (viewed.version !== undefined) this.#sink.playlist(viewed.version, at);
    this.#sink.request('playlist', body!.length);
    return viewed;
  }

  /**
   * Media on its own connection, one request after another in the order asked (the hinted part
   * first, as it was asked first): the connection queues them.
   */
  #fetch(uri: string, kind: 'part' | 'init'): void {
    this.#asked.add(uri);
    const path =
      uri.includes(':') || uri.startsWith('/')
        ? resolvePath(this.#playlistUrl, uri)
        : `${this.#folder}${uri}`;
    this.#media.get(path, false).then(
      ({ length }) => {
        if (kind === 'part') this.#sink.part(uri, now(), length);
        this.#sink.request(kind, length);
      },
      (err: unknown) => {
        if (!this.#signal.aborted)
          this.#sink.error(err instanceof HttpError ? `${kind}: ${err.kind}` : String(err));
      },
    );
  }

  /** URIs no longer listed are never asked again: the set stays the size of the playlist. */
  #forgetOld(viewed: ViewedPlaylist): void {
    if (this.#asked.size < 64) return;
    for (const uri of this.#asked) if (!viewed.listed.has(uri)) this.#asked.delete(uri);
  }
}
