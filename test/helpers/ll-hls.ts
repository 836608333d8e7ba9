/**
 * An outside judge for the Low-Latency HLS playlists: hls-parser (an independent implementation of
 * RFC 8216bis, in strict mode, so its own checks throw) reads them, and the rules it does not check
 * are checked here, against the spec and against the names our packager gives. The judgement is a
 * list of sentences, so a failing test says what is wrong: `expect(judgement.violations).toEqual([])`.
 */
import HLS from 'hls-parser';

export type MediaPlaylist = HLS.types.MediaPlaylist;
export type PlaylistSegment = HLS.types.Segment;

/** `<streamId>-<msn>.m4s` and `<streamId>-<msn>.<part>.m4s`, as segmenter/names.ts makes them. */
const MEDIA_NAME = /^([0-9a-z]{8,12}-[0-9a-f]{8})-(\d{5,10})(?:\.(\d{1,4}))?\.m4s$/;
const INIT_NAME = /^([0-9a-z]{8,12}-[0-9a-f]{8})-init\.mp4$/;

/** Timestamps are written with 5 decimals, and program date-times in whole ms. */
const EPSILON = 1e-6;
const PDT_TOLERANCE_MS = 2;

export interface MediaName {
  readonly streamId: string;
  readonly msn: number;
  readonly part: number | undefined;
}

export function parseMediaName(uri: string): MediaName | undefined {
  const match = MEDIA_NAME.exec(uri);
  if (!match) return undefined;
  return {
    streamId: match[1]!,
    msn: Number(match[2]),
    part: match[3] === undefined ? undefined : Number(match[3]),
  };
}

/**
 * hls-parser's count for "EXT-X-PART tags more than three target durations from the end" (§6.2.2):
 * it allows parts on the last three segments, counting the preload hint's segment too. The spec
 * measures time, and segments shorter than the target duration (a run's first, which ends at the
 * camera's second keyframe; the last of a segmenter that was killed) make the count wrong, so
 * checkParts measures the time instead.
 */
const PARSER_PART_COUNT_RULE = /Remove EXT-X-PART tags from the Playlist after they are greater than three/;

const hints = new WeakMap<MediaPlaylist, string[]>();

/**
 * hls-parser's reading, and every complaint it has (strict mode would stop at the first). Normalized
 * for the checks below: the EXT-X-PRELOAD-HINT, which hls-parser keeps as a part (of the open
 * segment, or of a segment of its own), is taken out (see `preloadHint`); the open segment gets the
 * EXT-X-MAP in force, which hls-parser leaves off it.
 */
export function parseWithComplaints(text: string): { playlist: MediaPlaylist; complaints: string[] } {
  const complaints: string[] = [];
  const consoleError = console.error;
  // Outside strict mode hls-parser reports each problem with console.error and carries on.
  console.error = (...args: unknown[]) => complaints.push(args.map(String).join(' '));
  const options = HLS.getOptions();
  let parsed: ReturnType<typeof HLS.parse>;
  try {
    HLS.setOptions({ strictMode: false, silent: false });
    parsed = HLS.parse(text);
  } finally {
    console.error = consoleError;
    HLS.setOptions(options);
  }
  if (parsed.isMasterPlaylist) throw new Error('a multivariant playlist where a media playlist was expected');
  const playlist = parsed as MediaPlaylist;
  const hinted: string[] = [];
  for (const segment of playlist.segments) {
    hinted.push(...segment.parts.filter((part) => part.hint).map((part) => part.uri));
    segment.parts = segment.parts.filter((part) => !part.hint);
  }
  hints.set(playlist, hinted);
  const last = playlist.segments.at(-1);
  if (last && !last.uri && last.parts.length === 0) playlist.segments.pop();
  const open = playlist.segments.at(-1);
  const before = playlist.segments.at(-2);
  if (open && !open.uri && !open.map && before?.map) open.map = before.map;
  return { playlist, complaints };
}

/** hls-parser's reading; throws on any complaint but the one measured in time by checkParts. */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const { playlist, complaints } = parseWithComplaints(text);
  const serious = complaints.filter((complaint) => !PARSER_PART_COUNT_RULE.test(complaint));
  if (serious.length > 0) throw new Error(`hls-parser: ${serious.join('; ')}`);
  return playlist;
}

/** The segments with an EXTINF and a URI (the open segment, parts only, may follow them). */
export function completeSegments(playlist: MediaPlaylist): PlaylistSegment[] {
  return playlist.segments.filter((segment) => Boolean(segment.uri));
}

/** The EXT-X-PRELOAD-HINT part, if there is exactly one of ours. */
export function preloadHint(playlist: MediaPlaylist): MediaName | undefined {
  const uris = hints.get(playlist) ?? [];
  return uris.length === 1 ? parseMediaName(uris[0]!) : undefined;
}

/** The newest part listed, as (msn, index); undefined if none is. */
export function newestPart(playlist: MediaPlaylist): { msn: number; part: number } | undefined {
  for (const segment of [...playlist.segments].reverse()) {
    if (segment.parts.length > 0) return { msn: segment.mediaSequenceNumber, part: segment.parts.length - 1 };
  }
  return undefined;
}

/** Seconds of media listed (complete segments and the open segment's parts). */
export function listedSeconds(playlist: MediaPlaylist): number {
  return playlist.segments.reduce((sum, segment) => sum + segmentSeconds(segment), 0);
}

function segmentSeconds(segment: PlaylistSegment): number {
  if (segment.uri) return segment.duration;
  return segment.parts.reduce((sum, part) => sum + (part.duration ?? 0), 0);
}

export interface Judgement {
  /** Undefined when hls-parser refused the playlist. */
  readonly playlist: MediaPlaylist | undefined;
  readonly violations: string[];
}

/**
 * Parses `text` and checks it. With `previous` (an earlier snapshot of the same live playlist), also
 * what must hold from one reload to the next.
 */
export function judgeLlHlsPlaylist(text: string, previous?: MediaPlaylist): Judgement {
  const violations: string[] = [];
  const fail = (message: string) => violations.push(message);
  let playlist: MediaPlaylist;
  try {
    const parsed = parseWithComplaints(text);
    playlist = parsed.playlist;
    for (const complaint of parsed.complaints) {
      if (!PARSER_PART_COUNT_RULE.test(complaint)) fail(`hls-parser: ${complaint}`);
    }
  } catch (err) {
    return { playlist: undefined, violations: [`hls-parser could not read it: ${(err as Error).message}`] };
  }
  checkHeader(playlist, fail);
  checkSegments(playlist, fail);
  checkParts(playlist, fail);
  if (previous) checkContinuation(previous, playlist, fail);
  return { playlist, violations };
}

type Fail = (message: string) => void;

function checkHeader(playlist: MediaPlaylist, fail: Fail): void {
  const { targetDuration: td, partTargetDuration: partTarget, lowLatencyCompatibility: control } = playlist;
  if (!Number.isInteger(td) || td < 1) fail(`EXT-X-TARGETDURATION ${td} is not a positive integer`);
  if ((playlist.version ?? 1) < 6) fail(`EXT-X-VERSION ${playlist.version} < 6, but EXT-X-MAP is used`);
  if (playlist.skip > 0 && (playlist.version ?? 1) < 9) fail('EXT-X-SKIP needs EXT-X-VERSION 9');
  if (playlist.endlist) fail('a live playlist has EXT-X-ENDLIST');
  if (partTarget === undefined) fail('no EXT-X-PART-INF');
  if (!control) {
    fail('no EXT-X-SERVER-CONTROL');
    return;
  }
  if (!control.canBlockReload) fail('CAN-BLOCK-RELOAD is not YES');
  // RFC 8216bis §4.4.3.8.
  if (!(control.canSkipUntil >= 6 * td - EPSILON)) fail(`CAN-SKIP-UNTIL ${control.canSkipUntil} < 6 × ${td}`);
  if (!(control.holdBack >= 3 * td - EPSILON)) fail(`HOLD-BACK ${control.holdBack} < 3 × ${td}`);
  if (partTarget !== undefined) {
    if (!(control.partHoldBack >= 2 * partTarget - EPSILON)) {
      fail(`PART-HOLD-BACK ${control.partHoldBack} < 2 × PART-TARGET ${partTarget} (MUST)`);
    }
    if (!(control.partHoldBack >= 3 * partTarget - EPSILON)) {
      fail(
        `PART-HOLD-BACK ${control.partHoldBack} < 3 × PART-TARGET ${partTarget} (SHOULD, and what we promise)`,
      );
    }
  }
}

function checkSegments(playlist: MediaPlaylist, fail: Fail): void {
  const { targetDuration: td } = playlist;
  const base = (playlist.mediaSequenceBase ?? 0) + playlist.skip;
  playlist.segments.forEach((segment, index) => {
    const label = `segment ${segment.mediaSequenceNumber}`;
    if (segment.mediaSequenceNumber !== base + index) {
      fail(`${label} is listed at position ${index} after EXT-X-MEDIA-SEQUENCE ${base}`);
    }
    const open = !segment.uri;
    if (open && index !== playlist.segments.length - 1) fail(`${label} has no URI but is not the last`);
    if (!segment.map?.uri || !INIT_NAME.test(segment.map.uri)) fail(`${label} has no EXT-X-MAP of ours`);
    if (!segment.programDateTime) fail(`${label} has no EXT-X-PROGRAM-DATE-TIME`);
    if (!open) {
      const name = parseMediaName(segment.uri);
      if (!name || name.part !== undefined || name.msn !== segment.mediaSequenceNumber) {
        fail(`${label} has the URI ${segment.uri}`);
      }
      if (name && segment.map && INIT_NAME.exec(segment.map.uri)?.[1] !== name.streamId) {
        fail(`${label} (${segment.uri}) refers to the init segment of another run, ${segment.map.uri}`);
      }
      // §4.4.3.1: EXTINF rounded to the nearest integer MUST be at most the target duration.
      if (Math.round(segment.duration) > td) fail(`${label} lasts ${segment.duration} s > ${td} s`);
      if (!(segment.duration > 0)) fail(`${label} lasts ${segment.duration} s`);
    }
    const before = playlist.segments[index - 1];
    if (!before) return;
    const newMap = before.map?.uri !== segment.map?.uri;
    if (newMap && !segment.discontinuity) fail(`${label} has a new EXT-X-MAP without EXT-X-DISCONTINUITY`);
    // The same EXT-X-MAP across a discontinuity is a gap in the camera's stream: the timestamps
    // jump (§4.4.4.3), the wall clock went on, so the date-time may jump ahead but never back.
    if (before.programDateTime && segment.programDateTime) {
      const expected = before.programDateTime.getTime() + segmentSeconds(before) * 1000;
      const error = segment.programDateTime.getTime() - expected;
      if (!segment.discontinuity && Math.abs(error) > PDT_TOLERANCE_MS) {
        fail(`${label}: EXT-X-PROGRAM-DATE-TIME is ${error} ms off the previous one plus its duration`);
      }
      if (segment.discontinuity && !newMap && error < -PDT_TOLERANCE_MS) {
        fail(`${label}: EXT-X-PROGRAM-DATE-TIME goes ${-error} ms back across EXT-X-DISCONTINUITY`);
      }
    }
  });
}

function checkParts(playlist: MediaPlaylist, fail: Fail): void {
  const { targetDuration: td, partTargetDuration: partTarget = 0 } = playlist;
  const total = listedSeconds(playlist);
  let startFromEnd = total;
  let partsBegan = false;
  let partsFrom = 0;
  let lastListed: { msn: number; part: number; complete: boolean; streamId: string } | undefined;
  playlist.segments.forEach((segment) => {
    const msn = segment.mediaSequenceNumber;
    const label = `segment ${msn}`;
    const complete = Boolean(segment.uri);
    const streamId = INIT_NAME.exec(segment.map?.uri ?? '')?.[1] ?? '';
    const parts = segment.parts;
    if (parts.length > 0) {
      // RFC 8216bis §6.2.2: EXT-X-PART tags go once they are more than three target durations from
      // the end (a SHOULD: kept where the parts after would reach back less than two, see below); the
      // parts that are listed run up to the end without a gap.
      const endFromEnd = startFromEnd - segmentSeconds(segment);
      if (startFromEnd > 3 * td + 1e-3 && endFromEnd >= 2 * td - 1e-3) {
        fail(`${label} lists parts but begins ${startFromEnd.toFixed(3)} s from the end (> 3 × ${td})`);
      }
      if (!partsBegan) partsFrom = startFromEnd;
      partsBegan = true;
    } else if (partsBegan) {
      fail(`${label} lists no parts, after a segment that does`);
    }
    if (!complete && parts.length === 0) fail(`${label} is listed without a URI and without parts`);
    parts.forEach((part, index) => {
      const name = parseMediaName(part.uri);
      if (!name || name.msn !== msn || name.part !== index || name.streamId !== streamId) {
        fail(`${label} part ${index} has the URI ${part.uri}`);
      }
      const duration = part.duration ?? NaN;
      // §4.4.4.9: at most PART-TARGET; at least 85 % of it, except INDEPENDENT parts and the last
      // part of a segment (the parts of the open segment are never its last: they are full).
      if (!(duration <= partTarget + EPSILON))
        fail(`${label} part ${index} lasts ${duration} s > PART-TARGET`);
      const last = complete && index === parts.length - 1;
      if (!part.independent && !last && !(duration >= 0.85 * partTarget - EPSILON)) {
        fail(`${label} part ${index} lasts ${duration} s < 85 % of PART-TARGET ${partTarget}`);
      }
      // A segment may begin between keyframes (the run's first segment is cut after its first part)
      // as long as the playlist does not promise EXT-X-INDEPENDENT-SEGMENTS, and never right after a
      // discontinuity: a player joining there would have nothing to decode from.
      if (index === 0 && !part.independent && (playlist.independentSegments || segment.discontinuity)) {
        fail(`${label} does not start with an INDEPENDENT part`);
      }
    });
    if (complete && parts.length > 0) {
      const sum = parts.reduce((total, part) => total + (part.duration ?? 0), 0);
      if (Math.abs(sum - segment.duration) > 1e-4 * parts.length) {
        fail(`${label}: its parts add up to ${sum} s, its EXTINF says ${segment.duration} s`);
      }
    }
    if (parts.length > 0 || complete) {
      lastListed = { msn, part: parts.length - 1, complete, streamId };
    }
    startFromEnd -= segmentSeconds(segment);
  });
  // And they reach back far enough for a player that starts PART-HOLD-BACK from the end: about two
  // target durations at least (whole segments: within a part of that).
  const needed = Math.min(total, 2 * td) - partTarget;
  if (partsFrom < needed - 1e-3) {
    fail(
      `parts are listed for the last ${partsFrom.toFixed(3)} s only, expected at least ${needed.toFixed(3)} s`,
    );
  }
  const hinted = hints.get(playlist)?.length ?? 0;
  if (hinted !== 1) {
    fail(`${hinted} EXT-X-PRELOAD-HINT parts, expected 1`);
    return;
  }
  const hint = preloadHint(playlist);
  if (!hint || hint.part === undefined || !lastListed) {
    fail('the EXT-X-PRELOAD-HINT is not one of our part names');
    return;
  }
  // The hint names the next part: the next index in the open segment, or part 0 of the next segment.
  const nextInSegment =
    !lastListed.complete && hint.msn === lastListed.msn && hint.part === lastListed.part + 1;
  const nextSegment = hint.msn === lastListed.msn + 1 && hint.part === 0;
  if (!nextInSegment && !nextSegment) {
    fail(`the EXT-X-PRELOAD-HINT names ${hint.msn}.${hint.part}, after ${lastListed.msn}.${lastListed.part}`);
  }
  // A part of another run only as the first part of a segment: a restarted segmenter's first.
  if (hint.streamId !== lastListed.streamId && !nextSegment) {
    fail('the EXT-X-PRELOAD-HINT names a part of another run in the middle of a segment');
  }
}

/** What holds from one reload of a live playlist to the next (RFC 8216bis §6.2.2). */
function checkContinuation(previous: MediaPlaylist, next: MediaPlaylist, fail: Fail): void {
  const before = previous.mediaSequenceBase ?? 0;
  const now = next.mediaSequenceBase ?? 0;
  if (now < before) fail(`EXT-X-MEDIA-SEQUENCE went back from ${before} to ${now}`);
  const discBefore = previous.discontinuitySequenceBase ?? 0;
  const discNow = next.discontinuitySequenceBase ?? 0;
  if (discNow < discBefore) fail(`EXT-X-DISCONTINUITY-SEQUENCE went back from ${discBefore} to ${discNow}`);
  const lastBefore = previous.segments.at(-1)?.mediaSequenceNumber ?? before;
  if (previous.skip === 0 && now <= lastBefore + 1) {
    // Every segment that left the playlist in between was in the previous one.
    const left = previous.segments.filter((s) => s.mediaSequenceNumber < now && s.discontinuity).length;
    if (discNow - discBefore !== left) {
      fail(
        `EXT-X-DISCONTINUITY-SEQUENCE went from ${discBefore} to ${discNow}, but ${left} discontinuities left`,
      );
    }
  }
  const earlier = new Map(previous.segments.map((segment) => [segment.mediaSequenceNumber, segment]));
  for (const segment of next.segments) {
    const old = earlier.get(segment.mediaSequenceNumber);
    if (!old) continue;
    const label = `segment ${segment.mediaSequenceNumber}`;
    if (old.uri && old.uri !== segment.uri)
      fail(`${label} changed its URI from ${old.uri} to ${segment.uri}`);
    if (old.uri && Math.abs(old.duration - segment.duration) > EPSILON) fail(`${label} changed its duration`);
    if (Boolean(old.discontinuity) !== Boolean(segment.discontinuity))
      fail(`${label} changed EXT-X-DISCONTINUITY`);
    if (old.map?.uri !== segment.map?.uri) fail(`${label} changed its EXT-X-MAP`);
    if (old.programDateTime?.getTime() !== segment.programDateTime?.getTime()) {
      fail(`${label} changed its EXT-X-PROGRAM-DATE-TIME`);
    }
    const oldParts = old.parts;
    const newParts = segment.parts;
    if (newParts.length > 0) {
      oldParts.forEach((part, index) => {
        if (newParts[index]?.uri !== part.uri || newParts[index]?.duration !== part.duration) {
          fail(`${label} part ${index} changed from one reload to the next`);
        }
      });
    }
  }
  const newestBefore = newestPart(previous);
  const newestNow = newestPart(next);
  if (newestBefore && newestNow) {
    const behind =
      newestNow.msn < newestBefore.msn ||
      (newestNow.msn === newestBefore.msn && newestNow.part < newestBefore.part);
    if (behind) fail('the newest part listed went back');
  }
}
