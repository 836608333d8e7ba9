/** What the page's query string asks for. Pure: the caller passes `location.search`. */

export interface PageMode {
  /** `?stats=1`: measure, show the stats overlay, expose `window.__camstreamStats`. */
  stats: boolean;
  /**
   * `?src=<url-encoded HLS URL>`: player-only mode. Plays that playlist (any origin) with the same
   * player and overlay, and no controls or API calls; implies `stats`.
   */
  src: string | null;
  /** `?ll=1` with `src`: play it with the low-latency settings (an LL-HLS playlist). */
  lowLatency: boolean;
}

export function pageMode(search: string, base: string): PageMode {
  const params = new URLSearchParams(search);
  const raw = params.get('src');
  let src: string | null = null;
  if (raw !== null && raw !== '') {
    try {
      const url = new URL(raw, base);
      if (url.protocol === 'http:' || url.protocol === 'https:') src = url.href;
    } catch {
      // not a URL: ignored, the normal page shows
    }
  }
  return { stats: params.get('stats') === '1' || src !== null, src, lowLatency: params.get('ll') === '1' };
}
