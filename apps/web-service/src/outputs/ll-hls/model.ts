/**
 * The Low-Latency HLS playlist as data, and the pure rules on it: rendering (RFC 8216bis §4.4 with
 * Apple's LL-HLS tags) and the delivery directives `_HLS_msn`, `_HLS_part`, `_HLS_skip` (§6.2.5).
 * The packager keeps a `PlaylistModel` up to date; nothing here has state or a clock.
 */

export interface PartEntry {
  readonly index: number;
  readonly uri: string;
  /** Seconds. */
  readonly duration: number;
  /** Starts on a keyframe. */
  readonly independent: boolean;
}

export interface SegmentEntry {
  /** Media sequence number. */
  readonly msn: number;
  readonly uri: string;
  readonly mapUri: string;
  /** Preceded by EXT-X-DISCONTINUITY (a restarted segmenter: timestamps start over). */
  readonly discontinuity: boolean;
  /** Wall-clock time of the first frame, ms since the epoch. */
  readonly programDateTime: number;
  /** Seconds; for the open segment, what its parts add up to so far. */
  readonly duration: number;
  readonly independent: boolean;
  /** Listed with EXT-X-PART tags (the live edge, about three target durations). */
  readonly parts: readonly PartEntry[] | undefined;
}

export interface PlaylistModel {
  readonly targetDuration: number;
  /** PART-TARGET, seconds. */
  readonly partTarget: number;
  /** EXT-X-DISCONTINUITY-SEQUENCE: discontinuities that left the playlist. */
  readonly discontinuitySequence: number;
  /** Complete segments, oldest first. */
  readonly segments: readonly SegmentEntry[];
  /** The segment being written: listed by its parts only (no EXTINF yet); undefined between runs. */
  readonly open: SegmentEntry | undefined;
  /** EXT-X-PRELOAD-HINT: the next part's URI. */
  readonly preloadHint: string | undefined;
}

/** Server control values per RFC 8216bis §4.4.3.8. */
export function serverControl(model: Pick<PlaylistModel, 'targetDuration' | 'partTarget'>): {
  holdBack: number;
  partHoldBack: number;
  canSkipUntil: number;
} {
  return {
    // HOLD-BACK: at least three target durations. PART-HOLD-BACK: at least twice PART-TARGET, and
    // three times is what the spec recommends (and what hls.js aims for in low-latency mode).
    holdBack: 3 * model.targetDuration,
    partHoldBack: round(3 * model.partTarget),
    // CAN-SKIP-UNTIL: at least six target durations.
    canSkipUntil: 6 * model.targetDuration,
  };
}

/** The Advance Part Limit of §6.2.5.2: how many parts ahead a blocking request may ask for. */
export function advancePartLimit(partTarget: number): number {
  return partTarget < 1 ? Math.floor(3 / partTarget + 1e-9) : 3;
}

const round = (value: number, digits = 5): number => Number(value.toFixed(digits));
const seconds = (value: number): string => value.toFixed(5);

/** Segments that a delta update replaces with EXT-X-SKIP (§6.2.5.1): further from the end than CAN-SKIP-UNTIL. */
export function skippableSegments(model: PlaylistModel): number {
  const { canSkipUntil } = serverControl(model);
  let fromEnd = model.open?.duration ?? 0;
  for (const segment of model.segments) fromEnd += segment.duration;
  let skipped = 0;
  // A segment is skipped when its start is more than CAN-SKIP-UNTIL from the end of the playlist.
  for (const segment of model.segments) {
    if (fromEnd <= canSkipUntil + 1e-6) break;
    fromEnd -= segment.duration;
    skipped += 1;
  }
  // Never skip everything: the last complete segment stays.
  return Math.min(skipped, Math.max(0, model.segments.length - 1));
}

export function renderPlaylist(model: PlaylistModel, options: { skip?: boolean } = {}): string {
  const control = serverControl(model);
  const skipped = options.skip ? skippableSegments(model) : 0;
  const firstMsn = model.segments[0]?.msn ?? model.open?.msn ?? 0;
  const lines = [
    '#EXTM3U',
    // 6: EXT-X-MAP in a playlist without I-frames; 9: EXT-X-SKIP (RFC 8216bis §7).
    `#EXT-X-VERSION:${skipped > 0 ? 9 : 6}`,
    `#EXT-X-TARGETDURATION:${model.targetDuration}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=${seconds(control.canSkipUntil)},` +
      `PART-HOLD-BACK=${seconds(control.partHoldBack)},HOLD-BACK=${seconds(control.holdBack)}`,
    `#EXT-X-PART-INF:PART-TARGET=${seconds(model.partTarget)}`,
    `#EXT-X-MEDIA-SEQUENCE:${firstMsn}`,
  ];
  if (model.discontinuitySequence > 0) {
    lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${model.discontinuitySequence}`);
  }
  if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);

  let map: string | undefined;
  const listed = [...model.segments.slice(skipped), ...(model.open?.parts?.length ? [model.open] : [])];
  for (const segment of listed) {
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.mapUri !== map) {
      lines.push(`#EXT-X-MAP:URI="${segment.mapUri}"`);
      map = segment.mapUri;
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTime).toISOString()}`);
    for (const part of segment.parts ?? []) {
      const independent = part.independent ? ',INDEPENDENT=YES' : '';
      lines.push(`#EXT-X-PART:DURATION=${seconds(part.duration)},URI="${part.uri}"${independent}`);
    }
    if (segment !== model.open) lines.push(`#EXTINF:${seconds(segment.duration)},`, segment.uri);
  }
  if (model.preloadHint !== undefined) {
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${model.preloadHint}"`);
  }
  return `${lines.join('\n')}\n`;
}

/** Delivery directives of a playlist request (§6.2.5), as given in its query string. */
export interface Directives {
  readonly msn?: number;
  readonly part?: number;
  readonly skip?: boolean;
}

/** Parses `_HLS_msn`, `_HLS_part` and `_HLS_skip`; a message for anything malformed. */
export function parseDirectives(query: Record<string, unknown>): Directives | { error: string } {
  const integer = (name: string): number | undefined | { error: string } => {
    const raw = query[name];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) {
      return { error: `${name} must be a decimal integer, got ${JSON.stringify(raw)}` };
    }
    return Number(raw);
  };
  const msn = integer('_HLS_msn');
  const part = integer('_HLS_part');
  if (typeof msn === 'object') return msn;
  if (typeof part === 'object') return part;
  // §6.2.5.2: _HLS_part without _HLS_msn MUST be refused.
  if (part !== undefined && msn === undefined) return { error: '_HLS_part needs _HLS_msn' };
  const rawSkip = query._HLS_skip;
  if (rawSkip !== undefined && rawSkip !== 'YES' && rawSkip !== 'v2') {
    return { error: `_HLS_skip must be YES or v2, got ${JSON.stringify(rawSkip)}` };
  }
  return {
    ...(msn !== undefined && { msn }),
    ...(part !== undefined && { part }),
    ...(rawSkip !== undefined && { skip: true }),
  };
}

/** What a blocking request waits for, in words (its errors say it): "segment 12 part 3". */
export const blockingTarget = (msn: number, part: number | undefined): string =>
  `segment ${msn}${part !== undefined ? ` part ${part}` : ''}`;

/** Where a blocking request stands against the playlist as it is. */
export type BlockingVerdict = 'ready' | 'wait' | 'too-far';

/**
 * §6.2.5.2. `_HLS_msn=M` alone waits for segment M to be complete; with `_HLS_part=N` it waits for
 * part N of segment M, or anything later. A part index past a complete segment's last part means
 * part 0 of the next one. More than two segments ahead, or more parts ahead than the Advance Part
 * Limit, is refused.
 */
export function judgeBlockingRequest(model: PlaylistModel, msn: number, part?: number): BlockingVerdict {
  const lastComplete = model.segments.at(-1);
  const open = model.open;
  const lastMsn = open?.msn ?? lastComplete?.msn ?? -1;
  if (msn > lastMsn + 2) return 'too-far';

  if (part === undefined) {
    return lastComplete !== undefined && lastComplete.msn >= msn ? 'ready' : 'wait';
  }
  let wantMsn = msn;
  let wantPart = part;
  const complete = model.segments.find((segment) => segment.msn === msn);
  if (complete?.parts !== undefined && part >= complete.parts.length) {
    wantMsn = msn + 1;
    wantPart = 0;
  } else if (complete !== undefined && complete.parts === undefined) {
    return 'ready'; // its parts are no longer listed: the segment itself is there
  }
  // The newest part listed, as (msn, index).
  const openParts = open?.parts?.length ?? 0;
  const newest =
    open && openParts > 0
      ? { msn: open.msn, index: openParts - 1 }
      : lastComplete
        ? { msn: lastComplete.msn, index: (lastComplete.parts?.length ?? 1) - 1 }
        : undefined;
  if (newest && (newest.msn > wantMsn || (newest.msn === wantMsn && newest.index >= wantPart)))
    return 'ready';

  const partsPerSegment = Math.max(1, Math.round(model.targetDuration / model.partTarget));
  const newestMsn = newest?.msn ?? wantMsn;
  const newestIndex = newest?.index ?? -1;
  const ahead = (wantMsn - newestMsn) * partsPerSegment + wantPart - newestIndex;
  return ahead > advancePartLimit(model.partTarget) ? 'too-far' : 'wait';
}

/**
 * The current playlist version rendered once per variant (full, delta) as text and as bytes, shared
 * by every answer until `clear()` (a new version).
 */
export class RenderedPlaylists {
  readonly #text = new Map<boolean, string>();
  readonly #bytes = new Map<boolean, Buffer>();

  text(model: PlaylistModel, skip: boolean): string {
    let text = this.#text.get(skip);
    if (text === undefined) {
      text = renderPlaylist(model, { skip });
      this.#text.set(skip, text);
    }
    return text;
  }

  bytes(model: PlaylistModel, skip: boolean): Buffer {
    let bytes = this.#bytes.get(skip);
    if (bytes === undefined) {
      bytes = Buffer.from(this.text(model, skip), 'utf8');
      this.#bytes.set(skip, bytes);
    }
    return bytes;
  }

  clear(): void {
    this.#text.clear();
    this.#bytes.clear();
  }
}
