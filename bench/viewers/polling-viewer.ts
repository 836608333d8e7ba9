/**
 * One viewer of plain HLS, as a player without low-latency support behaves (hls.js with
 * lowLatencyMode off, VLC, ffplay): the playlist again every target duration (half of it when
 * nothing changed), and every new segment once. The peer's viewers: nginx serving ffmpeg's files.
 * Arrivals are keyed as the LL-HLS viewer's are: the playlist by its last segment, segments by URI.
 */
import { parseMediaPlaylist } from '../lib/playlist.js';
import { HttpConnection } from './http-client.js';
import { get, HttpError, now, resolvePath, type ViewerSink } from './viewer.js';

/** Segments fetched at the start: a player begins three target durations behind the edge. */
const START_SEGMENTS = 3;

export class PollingViewer {
  readonly #playlistUrl: URL;
  readonly #sink: ViewerSink;
  readonly #signal: AbortSignal;
  /** One keep-alive connection for everything: a plain player asks one thing at a time. */
  readonly #connection: HttpConnection;

  constructor(playlistUrl: URL, sink: ViewerSink, signal: AbortSignal) {
    this.#playlistUrl = playlistUrl;
    this.#sink = sink;
    this.#signal = signal;
    this.#connection = new HttpConnection(playlistUrl);
  }

  async run(): Promise<void> {
    let last = -1;
    let lastVersion = '';
    const stop = () => this.#connection.close();
    this.#signal.addEventListener('abort', stop, { once: true });
    const playlistPath = `${this.#playlistUrl.pathname}${this.#playlistUrl.search}`;
    try {
      while (!this.#signal.aborted) {
        let wait = 500;
        try {
          const body = await get(this.#connection, playlistPath);
          const at = now();
          this.#sink.request('playlist', body.length);
          const playlist = parseMediaPlaylist(body.toString('utf8'));
          const newest = playlist.segments.at(-1);
          const target = (playlist.targetDuration ?? 1) * 1000;
          if (newest) {
            const version = String(newest.seq);
            if (version !== lastVersion) this.#sink.playlist(version, at);
            wait = version === lastVersion ? target / 2 : target;
            lastVersion = version;
          }
          const fresh = playlist.segments.filter((segment) => segment.seq > last);
          for (const segment of last < 0 ? fresh.slice(-START_SEGMENTS) : fresh) {
            const { length } = await this.#connection.get(resolvePath(this.#playlistUrl, segment.uri), false);
            this.#sink.part(segment.uri, now(), length);
            this.#sink.request('segment', length);
            last = segment.seq;
          }
        } catch (err) {
          if (this.#signal.aborted) break;
          this.#sink.error(err instanceof HttpError ? err.kind : String(err));
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    } finally {
      this.#signal.removeEventListener('abort', stop);
      stop();
    }
  }
}
