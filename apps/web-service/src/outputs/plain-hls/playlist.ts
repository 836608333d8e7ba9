/**
 * The plain HLS playlist (RFC 8216): fMP4 segments, each run's init segment by EXT-X-MAP, a
 * discontinuity where a run begins after another or the camera's video paused. Pure; unit-tested.
 */

export interface ListedSegment {
  readonly name: string;
  readonly msn: number;
  /** Seconds. */
  readonly duration: number;
  /** The init segment's name (EXT-X-MAP). */
  readonly init: string;
  /** EXT-X-DISCONTINUITY before it: a new run, or the stream goes on after a gap. */
  readonly discontinuity: boolean;
  /** Wall clock of its first frame, epoch ms (EXT-X-PROGRAM-DATE-TIME). */
  readonly programDateTime: number;
}

export interface PlainPlaylist {
  /** EXT-X-TARGETDURATION: HLS_SEGMENT_SECONDS, or more if a segment is longer (a long GOP). */
  readonly targetDuration: number;
  /** EXT-X-DISCONTINUITY-SEQUENCE: discontinuities that left the listing. */
  readonly discontinuitySequence: number;
  readonly segments: readonly ListedSegment[];
}

export function renderPlainPlaylist({
  targetDuration,
  discontinuitySequence,
  segments,
}: PlainPlaylist): string {
  const longest = Math.max(0, ...segments.map((segment) => Math.round(segment.duration)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${Math.max(targetDuration, longest)}`,
    `#EXT-X-MEDIA-SEQUENCE:${segments[0]?.msn ?? 0}`,
    // Optional while 0 (RFC 8216 §4.3.3.3), and left out then, as ffmpeg's hls muxer does.
    ...(discontinuitySequence > 0 ? [`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence}`] : []),
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  let map: string | undefined;
  for (const segment of segments) {
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.init !== map) {
      lines.push(`#EXT-X-MAP:URI="${segment.init}"`);
      map = segment.init;
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTime).toISOString()}`);
    lines.push(`#EXTINF:${segment.duration.toFixed(6)},`, segment.name);
  }
  return `${lines.join('\n')}\n`;
}
