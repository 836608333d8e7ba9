/**
 * The LL-HLS playlist model, its pure rules checked from outside: rendered playlists read back by
 * hls-parser (strict mode) and judged against RFC 8216bis; the blocking-request verdicts of §6.2.5.2
 * as a table; the delivery directives as a table.
 */
import { describe, expect, test } from 'vitest';
import {
  advancePartLimit,
  judgeBlockingRequest,
  parseDirectives,
  renderPlaylist,
  serverControl,
  skippableSegments,
  type BlockingVerdict,
  type PartEntry,
  type PlaylistModel,
  type SegmentEntry,
} from '../src/outputs/ll-hls/model.js';
import { initName, partName, segmentName } from '../src/outputs/names.js';
import { judgeLlHlsPlaylist, parseMediaPlaylist, preloadHint } from '../../../test/helpers/ll-hls.js';

const RUN = 'mwr7e8ds-6f4cbf14';
const NEXT_RUN = 'mwr7f0aa-0badf00d';
const T0 = Date.parse('2026-11-22T02:14:13.284Z');

function parts(msn: number, count: number, run = RUN, duration = 0.2): PartEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    uri: partName(run, msn, index),
    duration,
    independent: index === 0,
  }));
}

interface SegmentSpec {
  msn: number;
  duration?: number;
  /** EXT-X-PART tags listed: a count of 0.2 s parts. */
  parts?: number;
  run?: string;
  discontinuity?: boolean;
  /** Seconds after T0. */
  at?: number;
}

function segment({
  msn,
  duration = 1,
  parts: count,
  run = RUN,
  discontinuity = false,
  at = msn,
}: SegmentSpec): SegmentEntry {
  return {
    msn,
    uri: segmentName(run, msn),
    mapUri: initName(run),
    discontinuity,
    programDateTime: T0 + at * 1000,
    duration,
    independent: true,
    parts: count === undefined ? undefined : parts(msn, count, run),
  };
}

/**
 * Complete segments `first`..`last` of 1 s, and an open one with `openParts` parts of 0.2 s; the
 * segments that begin within three target durations of the end list their parts, as the packager does.
 */
function liveModel(
  first: number,
  last: number,
  openParts: number,
  overrides: Partial<PlaylistModel> = {},
): PlaylistModel {
  const segments: SegmentEntry[] = [];
  const total = last - first + 1 + openParts * 0.2;
  for (let msn = first; msn <= last; msn += 1) {
    const startFromEnd = total - (msn - first);
    segments.push(segment({ msn, ...(startFromEnd <= 3 + 1e-9 && { parts: 5 }) }));
  }
  const open =
    openParts > 0
      ? { ...segment({ msn: last + 1, parts: openParts }), duration: openParts * 0.2 }
      : undefined;
  const hint = openParts > 0 ? partName(RUN, last + 1, openParts) : partName(RUN, last + 1, 0);
  return {
    targetDuration: 1,
    partTarget: 0.2,
    discontinuitySequence: 0,
    segments,
    open,
    preloadHint: hint,
    ...overrides,
  };
}

describe('renderPlaylist, read back by hls-parser', () => {
  test('the live playlist: server control, part info, segments, parts and the preload hint', () => {
    const model = liveModel(10, 15, 2);
    const text = renderPlaylist(model);
    const judgement = judgeLlHlsPlaylist(text);
    expect(judgement.violations).toEqual([]);
    const playlist = judgement.playlist!;
    expect(playlist).toMatchObject({
      targetDuration: 1,
      partTargetDuration: 0.2,
      mediaSequenceBase: 10,
      endlist: false,
      skip: 0,
      lowLatencyCompatibility: { canBlockReload: true, canSkipUntil: 6, holdBack: 3, partHoldBack: 0.6 },
    });
    expect(playlist.version).toBe(6);
    const complete = playlist.segments.filter((s) => s.uri);
    expect(complete.map((s) => [s.mediaSequenceNumber, s.uri, s.duration])).toEqual(
      [10, 11, 12, 13, 14, 15].map((msn) => [msn, segmentName(RUN, msn), 1]),
    );
    expect(complete.map((s) => s.programDateTime?.getTime())).toEqual(
      [10, 11, 12, 13, 14, 15].map((s) => T0 + s * 1000),
    );
    expect(playlist.segments.every((s) => s.map.uri === initName(RUN))).toBe(true);
    // The open segment: its parts, then the hint for the next one.
    const open = playlist.segments.at(-1)!;
    expect(open.uri).toBeFalsy();
    expect(open.parts.map((p) => [p.uri, p.duration, Boolean(p.independent)])).toEqual([
      [partName(RUN, 16, 0), 0.2, true],
      [partName(RUN, 16, 1), 0.2, false],
    ]);
    expect(text).toMatch(new RegExp(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partName(RUN, 16, 2)}"\n$`));
    expect(preloadHint(playlist)).toEqual({ streamId: RUN, msn: 16, part: 2 });
  });

  test('at the very start: only parts of the first segment', () => {
    const model: PlaylistModel = {
      ...liveModel(0, -1, 1),
      segments: [],
    };
    const text = renderPlaylist(model);
    expect(text).not.toMatch(/#EXTINF/);
    const judgement = judgeLlHlsPlaylist(text);
    expect(judgement.violations).toEqual([]);
    expect(judgement.playlist!.mediaSequenceBase).toBe(0);
    expect(judgement.playlist!.segments).toHaveLength(1);
  });

  test('a new run: EXT-X-DISCONTINUITY and its own EXT-X-MAP; EXT-X-DISCONTINUITY-SEQUENCE when one left', () => {
    const model = liveModel(20, 22, 0, {
      discontinuitySequence: 2,
      segments: [
        segment({ msn: 20, parts: 5 }),
        segment({ msn: 21, duration: 0.4, parts: 2 }),
        segment({ msn: 22, parts: 5, run: NEXT_RUN, discontinuity: true, at: 23 }),
      ],
      preloadHint: partName(NEXT_RUN, 23, 0),
    });
    const text = renderPlaylist(model);
    expect(text).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:2\n');
    expect(text).toMatch(
      new RegExp(`#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="${initName(NEXT_RUN)}"\n#EXT-X-PROGRAM-DATE-TIME:`),
    );
    const judgement = judgeLlHlsPlaylist(text);
    expect(judgement.violations).toEqual([]);
    const playlist = judgement.playlist!;
    expect(playlist.discontinuitySequenceBase).toBe(2);
    expect(
      playlist.segments.map((s) => [s.mediaSequenceNumber, Boolean(s.discontinuity), s.map.uri]),
    ).toEqual([
      [20, false, initName(RUN)],
      [21, false, initName(RUN)],
      [22, true, initName(NEXT_RUN)],
    ]);
    expect(playlist.segments.map((s) => s.discontinuitySequence)).toEqual([2, 2, 3]);
  });

  test('a delta update (_HLS_skip=YES): EXT-X-SKIP replaces what is older than CAN-SKIP-UNTIL; the tail is the same', () => {
    const model = liveModel(100, 114, 2); // 15 s listed, and 0.4 s of the open segment
    const skipped = skippableSegments(model);
    // Segments that begin more than 6 s from the end: the first ten.
    expect(skipped).toBe(10);
    const full = renderPlaylist(model);
    const delta = renderPlaylist(model, { skip: true });
    expect(delta).toContain(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}\n`);
    expect(delta).toContain('#EXT-X-VERSION:9\n');
    const judgement = judgeLlHlsPlaylist(delta);
    expect(judgement.violations).toEqual([]);
    const playlist = judgement.playlist!;
    expect(playlist.skip).toBe(skipped);
    expect(playlist.mediaSequenceBase).toBe(100);
    expect(playlist.segments[0]!.mediaSequenceNumber).toBe(110);
    // What follows the first listed segment is the full playlist's, line for line.
    const from = (text: string) =>
      text.slice(text.indexOf(`#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + 110_000).toISOString()}`));
    expect(from(delta)).toBe(from(full));
    const fullPlaylist = parseMediaPlaylist(full);
    expect(fullPlaylist.segments.slice(skipped).map((s) => s.uri)).toEqual(
      playlist.segments.map((s) => s.uri),
    );
  });

  test('delta updates never skip what is within CAN-SKIP-UNTIL, nor every segment', () => {
    // Six 1 s segments and nothing open: the oldest begins exactly 6 s from the end.
    const model = liveModel(0, 5, 0);
    expect(skippableSegments(model)).toBe(0);
    const delta = renderPlaylist(model, { skip: true });
    expect(delta).not.toContain('#EXT-X-SKIP');
    expect(delta).toContain('#EXT-X-VERSION:6\n');
    // The only complete segment stays, however far from the end it begins.
    const lonely = liveModel(0, 0, 0);
    expect(skippableSegments({ ...lonely, open: { ...segment({ msn: 1, parts: 30 }), duration: 6 } })).toBe(
      0,
    );
    // With the default six segments and an open one, the oldest is 6.x s away: one is skipped.
    expect(skippableSegments(liveModel(0, 5, 1))).toBe(1);
  });

  test('server control values: HOLD-BACK 3 × TD, PART-HOLD-BACK 3 × PART-TARGET, CAN-SKIP-UNTIL 6 × TD', () => {
    expect(serverControl({ targetDuration: 1, partTarget: 0.2 })).toEqual({
      holdBack: 3,
      partHoldBack: 0.6,
      canSkipUntil: 6,
    });
    expect(serverControl({ targetDuration: 2, partTarget: 0.333 })).toEqual({
      holdBack: 6,
      partHoldBack: 0.999,
      canSkipUntil: 12,
    });
    const text = renderPlaylist(liveModel(0, 3, 1, { targetDuration: 2, partTarget: 0.333 }));
    expect(text).toContain(
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.00000,PART-HOLD-BACK=0.99900,HOLD-BACK=6.00000\n',
    );
  });

  test('the Advance Part Limit of §6.2.5.2: 3 / PART-TARGET below one second, else 3', () => {
    expect(advancePartLimit(0.2)).toBe(15);
    expect(advancePartLimit(0.25)).toBe(12);
    expect(advancePartLimit(0.333)).toBe(9);
    expect(advancePartLimit(1)).toBe(3);
    expect(advancePartLimit(2)).toBe(3);
  });
});

describe('judgeBlockingRequest (RFC 8216bis §6.2.5.2)', () => {
  // Segments 10-15 complete (14 and 15 with their five parts listed), 16 open with parts 0 and 1.
  const live = liveModel(10, 15, 2);
  // The first part of a stream: no complete segment yet.
  const first: PlaylistModel = { ...liveModel(0, -1, 1), segments: [] };

  test.each<[string, number, number | undefined, BlockingVerdict, PlaylistModel]>([
    ['a complete segment', 15, undefined, 'ready', live],
    ['an old complete segment', 11, undefined, 'ready', live],
    ['a segment that has left the playlist', 3, undefined, 'ready', live],
    ['the open segment, as a whole', 16, undefined, 'wait', live],
    ['the next segment', 17, undefined, 'wait', live],
    ['two past the open segment', 18, undefined, 'wait', live],
    ['three past the open segment', 19, undefined, 'too-far', live],
    ['a listed part of the open segment', 16, 1, 'ready', live],
    ['its first part', 16, 0, 'ready', live],
    ['the next part (the preload hint)', 16, 2, 'wait', live],
    ['a listed part of a complete segment', 15, 4, 'ready', live],
    ['past the last part of a complete segment: part 0 of the next, listed', 15, 5, 'ready', live],
    ['far past the last part of a complete segment: still part 0 of the next', 15, 40, 'ready', live],
    ['a part of a complete segment whose parts are no longer listed', 13, 3, 'ready', live],
    ['a part of a segment that has left the playlist', 2, 0, 'ready', live],
    ['the Advance Part Limit (15) ahead of the newest part', 16, 16, 'wait', live],
    ['one beyond the Advance Part Limit', 16, 17, 'too-far', live],
    ['part 0 of the next segment', 17, 0, 'wait', live],
    ['part 10 of the segment after next (ahead by 19 parts)', 18, 10, 'too-far', live],
    ['part 0 of the segment after next (ahead by 9 parts)', 18, 0, 'wait', live],
    ['at the start: the open first segment, as a whole', 0, undefined, 'wait', first],
    ['at the start: its first part', 0, 0, 'ready', first],
    ['at the start: its second part', 0, 1, 'wait', first],
    ['at the start: two segments on', 2, undefined, 'wait', first],
    ['at the start: three segments on', 3, undefined, 'too-far', first],
  ])('%s (_HLS_msn=%i, _HLS_part=%s): %s', (_name, msn, part, verdict, model) => {
    expect(judgeBlockingRequest(model, msn, part)).toBe(verdict);
  });

  test('a part index past a complete segment’s last part waits for part 0 of the next one', () => {
    // Segment 15 is complete with 5 parts and nothing of 16 is listed yet.
    const between = liveModel(10, 15, 0);
    expect(judgeBlockingRequest(between, 15, 4)).toBe('ready');
    expect(judgeBlockingRequest(between, 15, 5)).toBe('wait');
    expect(judgeBlockingRequest(between, 16, 0)).toBe('wait');
    const after = liveModel(10, 15, 1);
    expect(judgeBlockingRequest(after, 15, 5)).toBe('ready');
  });
});

describe('parseDirectives (§6.2.5)', () => {
  test.each<[Record<string, unknown>, ReturnType<typeof parseDirectives>]>([
    [{}, {}],
    [{ foo: 'bar' }, {}],
    [{ _HLS_msn: '5' }, { msn: 5 }],
    [
      { _HLS_msn: '0', _HLS_part: '0' },
      { msn: 0, part: 0 },
    ],
    [
      { _HLS_msn: '00042', _HLS_part: '3' },
      { msn: 42, part: 3 },
    ],
    [{ _HLS_skip: 'YES' }, { skip: true }],
    [{ _HLS_skip: 'v2' }, { skip: true }],
    [
      { _HLS_msn: '7', _HLS_part: '1', _HLS_skip: 'YES' },
      { msn: 7, part: 1, skip: true },
    ],
  ])('%j → %j', (query, expected) => {
    expect(parseDirectives(query)).toEqual(expected);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['_HLS_part without _HLS_msn', { _HLS_part: '2' }, /_HLS_part needs _HLS_msn/],
    ['a negative msn', { _HLS_msn: '-1' }, /_HLS_msn must be a decimal integer/],
    ['a fraction', { _HLS_msn: '1.5' }, /_HLS_msn/],
    ['an exponent', { _HLS_msn: '1e3' }, /_HLS_msn/],
    ['an empty value', { _HLS_msn: '' }, /_HLS_msn/],
    ['a word', { _HLS_msn: 'next' }, /_HLS_msn/],
    ['sixteen digits', { _HLS_msn: '1234567890123456' }, /_HLS_msn/],
    ['a repeated parameter', { _HLS_msn: ['1', '2'] }, /_HLS_msn/],
    ['a bad part', { _HLS_msn: '1', _HLS_part: 'x' }, /_HLS_part must be a decimal integer/],
    ['_HLS_skip=NO', { _HLS_skip: 'NO' }, /_HLS_skip must be YES or v2/],
    ['_HLS_skip=yes', { _HLS_skip: 'yes' }, /_HLS_skip/],
  ])('%s: an error that says why', (_name, query, message) => {
    const result = parseDirectives(query);
    expect(result).toHaveProperty('error');
    expect((result as { error: string }).error).toMatch(message);
  });
});

describe('the outside judge (test/helpers/ll-hls.ts) is not vacuous', () => {
  const judge = (model: PlaylistModel) => judgeLlHlsPlaylist(renderPlaylist(model)).violations;

  test('parts listed more than three target durations from the end', () => {
    const model = liveModel(10, 15, 2);
    const withOldParts = {
      ...model,
      segments: model.segments.map((s) => ({ ...s, parts: parts(s.msn, 5) })),
    };
    expect(judge(withOldParts).join('\n')).toMatch(/three target durations|lists parts but begins/);
  });

  test('a part longer than PART-TARGET, a short part inside a segment, a segment too long', () => {
    const model = liveModel(10, 15, 2);
    const long = { ...model, open: { ...model.open!, parts: parts(16, 2, RUN, 0.21) } };
    expect(judge(long).join('\n')).toMatch(/PART-TARGET/);
    const short = { ...model, open: { ...model.open!, parts: parts(16, 2, RUN, 0.1) } };
    expect(judge(short).join('\n')).toMatch(/85 ?%/);
    const segments = [...model.segments];
    segments[1] = { ...segments[1]!, duration: 1.6 };
    expect(judge({ ...model, segments }).join('\n')).toMatch(/lasts 1.6 s > 1 s/);
  });

  test('a preload hint that is not the next part, a new map without a discontinuity', () => {
    const model = liveModel(10, 15, 2);
    expect(judge({ ...model, preloadHint: partName(RUN, 16, 5) }).join('\n')).toMatch(/PRELOAD-HINT/);
    const segments = [...model.segments];
    segments[2] = { ...segments[2]!, mapUri: initName(NEXT_RUN) };
    expect(judge({ ...model, segments }).join('\n')).toMatch(/EXT-X-MAP/);
  });

  test('a reload that goes back', () => {
    const later = parseMediaPlaylist(renderPlaylist(liveModel(12, 17, 1)));
    expect(judgeLlHlsPlaylist(renderPlaylist(liveModel(10, 15, 2)), later).violations.join('\n')).toMatch(
      /went back/,
    );
  });
});
