/**
 * The packager's parts and segments as it holds them, and the pure rules on a list of them: which
 * are listed, which list their parts, when part bytes go (RFC 8216bis §6.2.2).
 */
import type { PartEntry, SegmentEntry } from './model.js';
import { initName, partName, segmentName } from '../names.js';

/** What a segment needs of the segmenter run that made it. */
export interface SegmentRun {
  readonly streamId: string;
  init?: { readonly timescale: number };
}

export interface Part extends PartEntry {
  /** Its own buffer, then a view into the segment's once the segment is complete. */
  bytes: Buffer;
}

export interface Segment {
  readonly msn: number;
  readonly run: SegmentRun;
  readonly discontinuity: boolean;
  readonly programDateTime: number;
  readonly parts: Part[];
  /** Its EXT-X-PART tags may be listed: not for the stream's first segment (see listedEntries). */
  readonly partsListable: boolean;
  /** Ticks. */
  duration: number;
  independent: boolean;
  /** Set when complete. */
  bytes?: Buffer;
  /** The part bytes were released (the segment's parts are no longer listed). */
  partsReleased: boolean;
}

export const segmentSeconds = (segment: Segment): number => segment.duration / segment.run.init!.timescale;

/**
 * The index of the first listed segment: the last `listSize` segments, and more while they add up
 * to less than three target durations (§6.2.2: a MUST; the start's short segments need it).
 */
export function listedFrom(segments: readonly Segment[], listSize: number, targetDuration: number): number {
  let from = segments.length;
  let seconds = 0;
  while (from > 0 && (segments.length - from < listSize || seconds < 3 * targetDuration - 1e-6)) {
    from -= 1;
    seconds += segmentSeconds(segments[from]!);
  }
  return from;
}

/**
 * EXT-X-PART tags are listed for the segments within three target durations of the end (§6.2.2);
 * their bytes stay downloadable for three more target durations (a MUST there), then only the
 * whole segment remains.
 */
export function releaseOldParts(segments: readonly Segment[], targetDuration: number): void {
  const releaseAfter = 7 * targetDuration; // 3 listed + 3 downloadable + 1 to spare
  let fromEnd = 0;
  for (let i = segments.length - 1; i >= 0; i -= 1) {
    const segment = segments[i]!;
    fromEnd += segmentSeconds(segment);
    if (fromEnd > releaseAfter && !segment.partsReleased) {
      segment.partsReleased = true;
      segment.parts.length = 0;
    }
  }
}

export function segmentEntry(segment: Segment, withParts: boolean): SegmentEntry {
  return {
    msn: segment.msn,
    uri: segmentName(segment.run.streamId, segment.msn),
    mapUri: initName(segment.run.streamId),
    discontinuity: segment.discontinuity,
    programDateTime: segment.programDateTime,
    duration: segmentSeconds(segment),
    independent: segment.independent,
    parts: withParts ? segment.parts.map(({ bytes: _bytes, ...entry }) => entry) : undefined,
  };
}

/** The listed complete segments as playlist entries, `openSeconds` (the open segment's parts) after them. */
export function listedEntries(
  listed: readonly Segment[],
  openSeconds: number,
  targetDuration: number,
): SegmentEntry[] {
  const partWindow = 3 * targetDuration;
  let fromEnd = openSeconds;
  const entries: SegmentEntry[] = [];
  for (let i = listed.length - 1; i >= 0; i -= 1) {
    const segment = listed[i]!;
    fromEnd += segmentSeconds(segment);
    // §6.2.2: EXT-X-PART tags SHOULD go once they are more than three target durations from the
    // end, so a segment lists its parts while it begins less than that from the end.
    // The stream's first segment (one part, see Cutter#endPart) is listed without its part:
    // hls.js then starts it as a whole segment, not in part mode, where it reloaded that one part in
    // a loop (1.7.4: the part's loaded flag is lost across a playlist update) and then could not go
    // on into the next segment, which begins between keyframes. The first listed part, in the
    // segment after, is then where hls.js's shouldLoadParts() measures from: past it, it loads parts.
    // A segment longer than a target duration (EXTINF rounds: up to 1.5 TD, after an encoder
    // restart say) that begins just over three from the end still lists its parts when the ones
    // after it would reach back less than two: players start PART-HOLD-BACK from the end.
    const needed =
      fromEnd < partWindow - 1e-6 || fromEnd - segmentSeconds(segment) < 2 * targetDuration - 1e-6;
    const showParts = needed && !segment.partsReleased && segment.partsListable;
    entries.unshift(segmentEntry(segment, showParts));
  }
  return entries;
}

/** The media a list of segments holds, by name: each complete segment, and its parts until released. */
export function* heldMedia(segments: readonly Segment[]): Generator<[string, Buffer]> {
  for (const segment of segments) {
    const { streamId } = segment.run;
    if (segment.bytes) yield [segmentName(streamId, segment.msn), segment.bytes];
    if (segment.partsReleased) continue;
    for (const part of segment.parts) yield [partName(streamId, segment.msn, part.index), part.bytes];
  }
}
