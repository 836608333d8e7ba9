/**
 * The live playlist as a player sees it, parsed (pure): plain HLS (RFC 8216) and the Low-Latency HLS
 * tags of RFC 8216bis (EXT-X-PART, EXT-X-PART-INF, EXT-X-SERVER-CONTROL, EXT-X-PRELOAD-HINT, EXT-X-SKIP).
 * Watching it over time is playlist-watcher.ts.
 */

export interface PlaylistSegment {
  seq: number;
  uri: string;
  /** EXTINF, seconds. */
  duration: number;
  /** EXT-X-PROGRAM-DATE-TIME of the segment, epoch ms, when the packager writes one. */
  programDateTime?: number;
  /** EXT-X-MAP URI (fMP4: the init segment a decoder needs first). */
  mapUri?: string;
}

/** An EXT-X-PART: part `index` of segment `msn` (complete or still being written). */
export interface PlaylistPart {
  msn: number;
  index: number;
  uri: string;
  /** Seconds. */
  duration: number;
  independent: boolean;
}

export interface MediaPlaylist {
  targetDuration?: number;
  mediaSequence: number;
  /** Complete segments (EXTINF + URI), oldest first. */
  segments: PlaylistSegment[];
  /** Every EXT-X-PART listed, in order (the open segment's too). */
  parts: PlaylistPart[];
  endList: boolean;
  /** EXT-X-PART-INF PART-TARGET, s. */
  partTarget?: number;
  /** EXT-X-SERVER-CONTROL PART-HOLD-BACK and HOLD-BACK, s. */
  partHoldBack?: number;
  holdBack?: number;
  canBlockReload: boolean;
  /** EXT-X-PRELOAD-HINT URI. */
  preloadHint?: string;
}

/** The attribute list of a tag (RFC 8216 §4.2): `KEY=value,KEY="quoted, value"`. */
export function parseAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  const pattern = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  for (const match of text.matchAll(pattern)) {
    const value = match[2]!;
    attributes[match[1]!] = value.startsWith('"') ? value.slice(1, -1) : value;
  }
  return attributes;
}

const numberOr = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const value = Number.parseFloat(text);
  return Number.isFinite(value) ? value : undefined;
};

/** A media playlist (RFC 8216bis §4.4) as far as the report needs it. */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const playlist: MediaPlaylist = {
    mediaSequence: 0,
    segments: [],
    parts: [],
    endList: false,
    canBlockReload: false,
  };
  let skipped = 0;
  let duration: number | undefined;
  let pdt: number | undefined;
  let map: string | undefined;
  const nextSeq = () => playlist.mediaSequence + skipped + playlist.segments.length;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    const tag = !line.startsWith('#') ? '' : colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    switch (tag) {
      case '#EXT-X-TARGETDURATION':
        playlist.targetDuration = Number(value);
        break;
      case '#EXT-X-MEDIA-SEQUENCE':
        playlist.mediaSequence = Number(value);
        break;
      case '#EXTINF':
        duration = Number.parseFloat(value);
        break;
      case '#EXT-X-PROGRAM-DATE-TIME': {
        const at = Date.parse(value);
        pdt = Number.isFinite(at) ? at : undefined;
        break;
      }
      case '#EXT-X-MAP':
        map = parseAttributes(value).URI;
        break;
      case '#EXT-X-ENDLIST':
        playlist.endList = true;
        break;
      case '#EXT-X-SKIP':
        skipped = Number(parseAttributes(value)['SKIPPED-SEGMENTS'] ?? 0);
        break;
      case '#EXT-X-PART-INF': {
        const partTarget = numberOr(parseAttributes(value)['PART-TARGET']);
        if (partTarget !== undefined) playlist.partTarget = partTarget;
        break;
      }
      case '#EXT-X-SERVER-CONTROL': {
        const attributes = parseAttributes(value);
        const partHoldBack = numberOr(attributes['PART-HOLD-BACK']);
        const holdBack = numberOr(attributes['HOLD-BACK']);
        if (partHoldBack !== undefined) playlist.partHoldBack = partHoldBack;
        if (holdBack !== undefined) playlist.holdBack = holdBack;
        playlist.canBlockReload = attributes['CAN-BLOCK-RELOAD'] === 'YES';
        break;
      }
      case '#EXT-X-PART': {
        const attributes = parseAttributes(value);
        const msn = nextSeq();
        playlist.parts.push({
          msn,
          index: playlist.parts.filter((part) => part.msn === msn).length,
          uri: attributes.URI ?? '',
          duration: numberOr(attributes.DURATION) ?? 0,
          independent: attributes.INDEPENDENT === 'YES',
        });
        break;
      }
      case '#EXT-X-PRELOAD-HINT':
        playlist.preloadHint = parseAttributes(value).URI;
        break;
      case '':
        if (duration === undefined) break;
        playlist.segments.push({
          seq: nextSeq(),
          uri: line,
          duration,
          ...(pdt !== undefined && { programDateTime: pdt }),
          ...(map !== undefined && { mapUri: map }),
        });
        duration = undefined;
        pdt = undefined;
        break;
      default:
        break;
    }
  }
  return playlist;
}
