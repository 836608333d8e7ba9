/**
 * A pure parser for HLS media playlists (RFC 8216 §4.3), as far as the service needs: is the
 * playlist playable yet, which segments does it list, where does its media sequence stand.
 */

export interface PlaylistSegment {
  readonly uri: string;
  /** Seconds, from #EXTINF. */
  readonly duration: number;
  /** An #EXT-X-DISCONTINUITY precedes this segment. */
  readonly discontinuity: boolean;
}

export interface MediaPlaylist {
  readonly targetDuration: number;
  /** #EXT-X-MEDIA-SEQUENCE: the sequence number of the first listed segment (0 when absent). */
  readonly mediaSequence: number;
  readonly segments: readonly PlaylistSegment[];
  /** #EXT-X-ENDLIST: the stream has ended. */
  readonly endList: boolean;
}

function tagValue(line: string, tag: string): string | undefined {
  return line.startsWith(`${tag}:`) ? line.slice(tag.length + 1).trim() : undefined;
}

/**
 * Returns undefined for anything that is not a complete media playlist (no #EXTM3U first line, no
 * #EXT-X-TARGETDURATION), e.g. a file caught half-written. A trailing #EXTINF without its URI line
 * is ignored: that segment is not listed yet.
 */
export function parsePlaylist(text: string): MediaPlaylist | undefined {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== '#EXTM3U') return undefined;

  let targetDuration: number | undefined;
  let mediaSequence = 0;
  let endList = false;
  let pendingDuration: number | undefined;
  let pendingDiscontinuity = false;
  const segments: PlaylistSegment[] = [];

  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const target = tagValue(line, '#EXT-X-TARGETDURATION');
    const sequence = tagValue(line, '#EXT-X-MEDIA-SEQUENCE');
    const extinf = tagValue(line, '#EXTINF');
    if (target !== undefined) {
      targetDuration = Number(target);
    } else if (sequence !== undefined) {
      mediaSequence = Number(sequence);
    } else if (extinf !== undefined) {
      // `#EXTINF:<duration>,[<title>]`
      pendingDuration = Number(extinf.split(',')[0]);
    } else if (line === '#EXT-X-DISCONTINUITY') {
      pendingDiscontinuity = true;
    } else if (line === '#EXT-X-ENDLIST') {
      endList = true;
    } else if (!line.startsWith('#')) {
      if (pendingDuration !== undefined && Number.isFinite(pendingDuration) && pendingDuration > 0) {
        segments.push({ uri: line, duration: pendingDuration, discontinuity: pendingDiscontinuity });
      }
      pendingDuration = undefined;
      pendingDiscontinuity = false;
    }
  }

  if (targetDuration === undefined || !Number.isFinite(targetDuration) || targetDuration <= 0)
    return undefined;
  if (!Number.isSafeInteger(mediaSequence) || mediaSequence < 0) return undefined;
  return { targetDuration, mediaSequence, segments, endList };
}

/**
 * At least one complete segment is listed (ffmpeg's hls muxer lists a segment only once it is
 * closed). `acceptSegment` narrows which segments count, e.g. those of one segmenter run.
 */
export function isPlayable(text: string, acceptSegment: (uri: string) => boolean = () => true): boolean {
  const playlist = parsePlaylist(text);
  return playlist !== undefined && playlist.segments.some((segment) => acceptSegment(segment.uri));
}

/** The sequence number the next segment should carry to continue this playlist. */
export function nextMediaSequence(playlist: MediaPlaylist): number {
  return playlist.mediaSequence + playlist.segments.length;
}
