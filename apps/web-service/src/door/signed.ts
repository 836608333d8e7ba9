/**
 * Signed stream URLs, for players that cannot send an Authorization header (Safari's native player,
 * VLC, ffplay): `?token=<expiryUnix>.<base64url HMAC-SHA256(secret, "<cameraId>\n<expiryUnix>")>`.
 * Bound to one camera, expiring; playlists served with one carry a fresh one on every URI.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class UrlSigner {
  private readonly key: Buffer;

  constructor(
    secret: string | undefined,
    private readonly ttlS: number,
    private readonly now: () => number = Date.now,
  ) {
    // Unset: random per boot, so a restart ends every signed URL handed out before it.
    this.key = secret === undefined ? randomBytes(32) : Buffer.from(secret, 'utf8');
  }

  sign(cameraId: string): string {
    const expiry = Math.floor(this.now() / 1000) + this.ttlS;
    return `${expiry}.${this.mac(cameraId, expiry).toString('base64url')}`;
  }

  /** True only for a well-formed, unexpired token signed for this camera. */
  verify(token: string, cameraId: string): boolean {
    const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return false;
    const expiry = Number(match[1]);
    const given = Buffer.from(match[2]!, 'base64url');
    const expected = this.mac(cameraId, expiry);
    const valid = given.length === expected.length && timingSafeEqual(given, expected);
    return valid && expiry * 1000 > this.now();
  }

  private mac(cameraId: string, expiry: number): Buffer {
    return createHmac('sha256', this.key).update(`${cameraId}\n${expiry}`).digest();
  }
}

/**
 * Every URI of a playlist (media lines and URI="…" attributes: EXT-X-MAP, EXT-X-PART,
 * EXT-X-PRELOAD-HINT, EXT-X-RENDITION-REPORT) with `token=<token>` added to its query.
 */
export function signPlaylist(text: string, token: string): string {
  const add = (uri: string): string => `${uri}${uri.includes('?') ? '&' : '?'}token=${token}`;
  return text
    .split('\n')
    .map((line) => {
      if (line === '' || line.trim() === '') return line;
      if (!line.startsWith('#')) return add(line.trimEnd());
      return line.replace(/URI="([^"]*)"/g, (_all, uri: string) => `URI="${add(uri)}"`);
    })
    .join('\n');
}

/** The request URL with any token=… value hidden, for the log. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}
