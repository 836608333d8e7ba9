/**
 * The LL-HLS packager fed real fMP4 from ffmpeg, frame by frame as the segmenter delivers it, with
 * every playlist it would serve read by hls-parser and judged against RFC 8216bis
 * (test/helpers/ll-hls.ts): part and segment durations, numbering, server control, where parts are
 * listed, the preload hint; and what it promises besides: bounded memory, delta updates, blocking
 * waits woken by the part itself (no polling), restarts that continue the playlist.
 */
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { initName, newStreamId, partName, segmentName } from '../src/outputs/names.js';
import { encodeFmp4, splitFmp4 } from './helpers/fmp4-media.js';
import { judgeAll, packager, remuxerRun, Run, type Media } from './helpers/packager-run.js';
import {
  completeSegments,
  judgeLlHlsPlaylist,
  listedSeconds,
  parseMediaPlaylist,
  preloadHint,
} from '../../../test/helpers/ll-hls.js';
import { haveTools } from '../../../test/helpers/tools.js';

const ready = haveTools('ffmpeg');

describe.runIf(ready)('LlHlsPackager fed ffmpeg’s fMP4', () => {
  let media: Media; // 40 s at 30 fps, a keyframe every second
  beforeAll(async () => {
    const whole = await encodeFmp4({ seconds: 40 });
    media = { whole, ...splitFmp4(whole) };
    expect(media.fragments).toHaveLength(1200);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('nothing to serve before the first part', () => {
    const p = packager();
    expect(p.playlist()).toBeUndefined();
    expect(p.model()).toBeUndefined();
    const run = new Run(p, media);
    expect(p.playlist()).toBeUndefined();
    run.frames(5); // five frames: less than a part
    expect(p.playlist()).toBeUndefined();
    expect(p.hasParts(run.streamId)).toBe(false);
    run.frames(1);
    expect(p.hasParts(run.streamId)).toBe(true);
    expect(p.playlist()).toContain(
      `#EXT-X-PART:DURATION=0.20000,URI="${partName(run.streamId, 0, 0)}",INDEPENDENT=YES`,
    );
  });

  test.each([
    [0.2, 1],
    [0.25, 1],
    [0.1, 1],
    [0.2, 2],
  ])(
    'PART-TARGET %f s, target duration %i s: every playlist, frame after frame, passes hls-parser and the rules',
    (partTarget, targetDuration) => {
      const p = packager({ partTarget, targetDuration, quickStart: true });
      const run = new Run(p, media);
      const { snapshots, last } = judgeAll(p, (after) => run.frames(600, after));
      expect(snapshots).toBeGreaterThan(590);
      expect(last.partTargetDuration).toBe(partTarget);
      expect(last.targetDuration).toBe(targetDuration);
      // Segments are whole GOPs of the camera (1 s): one or two of them.
      for (const segment of completeSegments(last)) expect(segment.duration).toBe(targetDuration);
      expect(completeSegments(last)).toHaveLength(6);
    },
  );

  test('parts: at most PART-TARGET, at least 85 % of it but for the last of a segment; each segment starts INDEPENDENT; numbering contiguous', () => {
    const p = packager();
    const run = new Run(p, media);
    // Every part ever listed, by its URI (a part, once listed, never changes).
    const seen = new Map<string, { msn: number; index: number; duration: number; independent: boolean }>();
    run.frames(300, () => {
      const model = p.model();
      for (const segment of [...(model?.segments ?? []), ...(model?.open ? [model.open] : [])]) {
        for (const part of segment.parts ?? []) {
          seen.set(part.uri, { msn: segment.msn, ...part });
        }
      }
    });
    const parts = [...seen.values()];
    const bySegment = new Map<number, typeof parts>();
    for (const part of parts) bySegment.set(part.msn, [...(bySegment.get(part.msn) ?? []), part]);
    expect([...bySegment.keys()]).toEqual(Array.from({ length: 10 }, (_, i) => i)); // 0..9, one per second
    for (const [msn, list] of bySegment) {
      expect(list.map((part) => part.index)).toEqual(list.map((_, i) => i));
      expect(list[0]!.independent).toBe(true);
      expect(list.slice(1).every((part) => !part.independent)).toBe(true);
      list.forEach((part, i) => {
        expect(part.duration, `${msn}.${i}`).toBeLessThanOrEqual(0.2);
        if (i < list.length - 1) expect(part.duration, `${msn}.${i}`).toBeGreaterThanOrEqual(0.85 * 0.2);
      });
      expect(list.reduce((sum, part) => sum + part.duration, 0)).toBeCloseTo(1, 6);
    }
  });

  test('the part bytes are the frames, a segment is its parts, the init segment is ffmpeg’s', () => {
    const p = packager();
    const run = new Run(p, media);
    run.frames(70);
    expect(p.resource(initName(run.streamId))?.equals(media.init)).toBe(true);
    const first = Buffer.concat(media.fragments.slice(0, 6));
    expect(p.resource(partName(run.streamId, 0, 0))?.equals(first)).toBe(true);
    const segment0 = p.resource(segmentName(run.streamId, 0))!;
    expect(segment0.equals(Buffer.concat(media.fragments.slice(0, 30)))).toBe(true);
    const parts = Array.from({ length: 5 }, (_, i) => p.resource(partName(run.streamId, 0, i))!);
    expect(Buffer.concat(parts).equals(segment0)).toBe(true);
    expect(segment0.toString('latin1', 4, 8)).toBe('moof');
    // The open segment has parts but no segment bytes yet; unknown names are unknown.
    expect(p.resource(partName(run.streamId, 2, 0))).toBeDefined();
    expect(p.resource(segmentName(run.streamId, 2))).toBeUndefined();
    expect(p.resource(partName(run.streamId, 2, 5))).toBeUndefined();
    expect(p.resource(segmentName(newStreamId(), 0))).toBeUndefined();
    expect(p.resource('stream.m3u8')).toBeUndefined();
  });

  test('server control: PART-HOLD-BACK 3 × PART-TARGET, HOLD-BACK 3 × TD, CAN-SKIP-UNTIL 6 × TD; parts only near the end', () => {
    const p = packager();
    const run = new Run(p, media);
    run.frames(300 + 12); // 10.4 s
    const playlist = parseMediaPlaylist(p.playlist()!);
    expect(playlist.lowLatencyCompatibility).toEqual({
      canBlockReload: true,
      canSkipUntil: 6,
      holdBack: 3,
      partHoldBack: 0.6,
    });
    expect(playlist.lowLatencyCompatibility!.partHoldBack).toBeGreaterThanOrEqual(
      2 * playlist.partTargetDuration!,
    );
    // Six complete segments, 4-9, and 0.4 s of segment 10: parts for 8, 9 and 10 (they begin less
    // than 3 s from the end), none before.
    expect(playlist.segments.map((s) => [s.mediaSequenceNumber, s.parts.length])).toEqual([
      [4, 0],
      [5, 0],
      [6, 0],
      [7, 0],
      [8, 5],
      [9, 5],
      [10, 2],
    ]);
    expect(listedSeconds(playlist)).toBeCloseTo(6.4, 6);
    expect(preloadHint(playlist)).toEqual({ streamId: run.streamId, msn: 10, part: 2 });
  });

  test('memory is bounded: once the window is full, what is held stops growing', () => {
    const p = packager();
    const run = new Run(p, media);
    const samples: { second: number; bytes: number; segments: number; parts: number }[] = [];
    for (let second = 1; second <= 40; second += 1) {
      run.frames(30);
      const stats = p.stats();
      samples.push({ second, bytes: stats.bytesHeld, segments: stats.segmentsHeld, parts: stats.partsHeld });
    }
    // The listed segments and as many again.
    expect(Math.max(...samples.map((s) => s.segments))).toBe(12);
    const full = samples.filter((s) => s.second >= 14);
    expect(full.every((s) => s.segments === 12)).toBe(true);
    // Parts are held for about the last 7 target durations.
    expect(Math.max(...full.map((s) => s.parts))).toBeLessThanOrEqual(8 * 5);
    // The same picture all along: after the window filled, the bytes held stay within a few
    // percent of what they were then, and never grow past the largest window seen early on.
    const early = Math.max(...full.filter((s) => s.second <= 20).map((s) => s.bytes));
    const late = Math.max(...full.filter((s) => s.second > 20).map((s) => s.bytes));
    expect(late).toBeLessThanOrEqual(early * 1.05);
    // Bounded by the media itself: 12 segments' worth of the largest second, plus the init segment.
    const largestSecond = Math.max(
      ...Array.from({ length: 40 }, (_, s) =>
        media.fragments.slice(s * 30, s * 30 + 30).reduce((sum, f) => sum + f.length, 0),
      ),
    );
    expect(late).toBeLessThanOrEqual(13 * largestSecond + media.init.length);
  });

  test('a delta update with HLS_LIST_SIZE=15: EXT-X-SKIP with the segments older than CAN-SKIP-UNTIL; the same tail', () => {
    const p = packager({ listSize: 15 });
    const run = new Run(p, media);
    run.frames(20 * 30 + 12); // 20.4 s: 15 complete segments listed, and 0.4 s more
    const fullText = p.playlist()!;
    const deltaText = p.playlist({ skip: true })!;
    const full = judgeLlHlsPlaylist(fullText);
    const delta = judgeLlHlsPlaylist(deltaText);
    expect(full.violations).toEqual([]);
    expect(delta.violations).toEqual([]);
    // Independently: the segments that begin more than CAN-SKIP-UNTIL (6 s) before the end.
    let fromEnd = listedSeconds(full.playlist!);
    let older = 0;
    for (const segment of full.playlist!.segments) {
      if (fromEnd <= full.playlist!.lowLatencyCompatibility!.canSkipUntil) break;
      older += 1;
      fromEnd -= segment.duration;
    }
    expect(older).toBe(10);
    expect(deltaText).toContain(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${older}\n`);
    expect(delta.playlist!.skip).toBe(older);
    expect(delta.playlist!.mediaSequenceBase).toBe(full.playlist!.mediaSequenceBase);
    expect(delta.playlist!.segments.map((s) => [s.mediaSequenceNumber, s.uri, s.parts.length])).toEqual(
      full.playlist!.segments.slice(older).map((s) => [s.mediaSequenceNumber, s.uri, s.parts.length]),
    );
    // Line for line, from the first segment the delta lists.
    const tail = (text: string) =>
      text.slice(text.indexOf('#EXT-X-PROGRAM-DATE-TIME', text.indexOf('#EXT-X-MAP')));
    expect(tail(deltaText)).toBe(
      tail(fullText).slice(tail(fullText).indexOf(tail(deltaText).split('\n')[0]!)),
    );
    expect(fullText.endsWith(tail(deltaText))).toBe(true);
    // With the default six segments, at most the oldest one is ever old enough to skip.
    const small = packager();
    const smallRun = new Run(small, media);
    smallRun.frames(20 * 30 + 12);
    expect(small.playlist({ skip: true })).toContain('#EXT-X-SKIP:SKIPPED-SEGMENTS=1\n');
  });

  test('waitForPlaylist resolves when the part is made: woken by it, not by a timer', async () => {
    vi.useFakeTimers();
    const p = packager();
    const run = new Run(p, media);
    run.frames(40); // segment 0 done, segment 1 has part 0 (frames 30-35) and frames 36-39 pending
    const hint = preloadHint(parseMediaPlaylist(p.playlist()!))!;
    expect(hint).toMatchObject({ msn: 1, part: 1 });
    let result: unknown;
    const waiting = p.waitForPlaylist(1, 1, new AbortController().signal, 3000).then((r) => (result = r));
    await Promise.resolve();
    expect(p.stats().waiting).toBe(1);
    run.frames(1); // frame 40: part 1 still lacks frame 41
    await Promise.resolve();
    expect(result).toBeUndefined();
    run.frames(1); // frame 41 completes part 1 (frames 36-41)
    await waiting;
    expect(result).toEqual({ ok: true, value: undefined });
    expect(vi.getTimerCount()).toBe(0); // its timeout was cleared; no timer ran
    expect(p.stats().waiting).toBe(0);
    expect(p.playlist()).toContain(`URI="${partName(run.streamId, 1, 1)}"`);
  });

  test('waitForPlaylist: at once when ready, too-far at once, a timeout, an abort, gone on a stop', async () => {
    vi.useFakeTimers();
    const p = packager();
    const run = new Run(p, media);
    run.frames(40);
    const never = new AbortController().signal;
    expect(await p.waitForPlaylist(1, 0, never, 3000)).toEqual({ ok: true, value: undefined });
    expect(await p.waitForPlaylist(0, undefined, never, 3000)).toEqual({ ok: true, value: undefined });
    expect(await p.waitForPlaylist(4, undefined, never, 3000)).toEqual({ ok: false, reason: 'too-far' });
    expect(await p.waitForPlaylist(1, 17, never, 3000)).toEqual({ ok: false, reason: 'too-far' });

    const timedOut = p.waitForPlaylist(2, 0, never, 3000);
    await vi.advanceTimersByTimeAsync(2999);
    expect(p.stats().waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await timedOut).toEqual({ ok: false, reason: 'timeout' });

    const controller = new AbortController();
    const aborted = p.waitForPlaylist(2, 0, controller.signal, 3000);
    controller.abort();
    expect(await aborted).toEqual({ ok: false, reason: 'aborted' });
    const already = new AbortController();
    already.abort();
    expect(await p.waitForPlaylist(2, 0, already.signal, 3000)).toEqual({ ok: false, reason: 'aborted' });

    const stopped = p.waitForPlaylist(2, 0, never, 3000);
    p.clear();
    expect(await stopped).toEqual({ ok: false, reason: 'gone' });
    expect(p.stats().waiting).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('the preload-hinted part: a request for it waits until it is made; other unmade parts are not found', async () => {
    vi.useFakeTimers();
    const p = packager();
    const run = new Run(p, media);
    run.frames(40);
    const hint = partName(run.streamId, 1, 1);
    expect(p.playlist()).toContain(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${hint}"`);
    const never = new AbortController().signal;
    let bytes: Buffer | undefined;
    const waiting = p.waitForResource(hint, never, 3000).then((r) => (bytes = r.ok ? r.value : undefined));
    expect(await p.waitForResource(partName(run.streamId, 1, 2), never, 3000)).toEqual({
      ok: false,
      reason: 'gone',
    });
    expect(await p.waitForResource(partName(newStreamId(), 1, 1), never, 3000)).toEqual({
      ok: false,
      reason: 'gone',
    });
    run.frames(1);
    await Promise.resolve();
    expect(bytes).toBeUndefined();
    run.frames(1);
    await waiting;
    expect(bytes?.equals(Buffer.concat(media.fragments.slice(36, 42)))).toBe(true);
    // Made already: at once. A hint that times out: not found (the route answers 404).
    expect((await p.waitForResource(hint, never, 3000)).ok).toBe(true);
    const late = p.waitForResource(partName(run.streamId, 1, 2), never, 3000);
    await vi.advanceTimersByTimeAsync(3000);
    expect(await late).toEqual({ ok: false, reason: 'timeout' });
  });

  test('a restarted segmenter: EXT-X-DISCONTINUITY and a new EXT-X-MAP, media sequence numbers continue; EXT-X-DISCONTINUITY-SEQUENCE once it leaves', () => {
    const p = packager();
    const first = new Run(p, media);
    let second: Run | undefined;
    let sawDiscontinuity = false;
    const { last } = judgeAll(p, (after) => {
      first.frames(8 * 30 + 15, after); // 8.5 s, then the segmenter dies mid-segment
      // The new ffmpeg's timestamps start over; its first frame is a keyframe.
      second = new Run(p, media, { discontinuity: true });
      after();
      second.frames(4 * 30 + 6, () => {
        after();
        sawDiscontinuity ||= p.playlist()?.includes('#EXT-X-DISCONTINUITY\n') ?? false;
      });
    });
    expect(sawDiscontinuity).toBe(true);
    let playlist = parseMediaPlaylist(p.playlist()!);
    // The first run's open segment was closed when the second began: 0.5 s long, segment 8.
    const bySequence = new Map(playlist.segments.map((s) => [s.mediaSequenceNumber, s]));
    expect(bySequence.get(8)).toMatchObject({ uri: segmentName(first.streamId, 8), duration: 0.5 });
    expect(bySequence.get(9)).toMatchObject({
      uri: segmentName(second!.streamId, 9),
      discontinuity: true,
      map: { uri: initName(second!.streamId) },
    });
    expect(bySequence.get(7)?.map.uri).toBe(initName(first.streamId));
    expect(last.discontinuitySequenceBase ?? 0).toBe(0);
    expect(p.resource(initName(first.streamId))).toBeDefined();

    // Six more segments of the second run: segment 9 leaves the listing, and with it the discontinuity.
    second!.frames(6 * 30);
    const text = p.playlist()!;
    playlist = parseMediaPlaylist(text);
    expect(text).not.toContain('#EXT-X-DISCONTINUITY\n');
    expect(text).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:1\n');
    expect(playlist.discontinuitySequenceBase).toBe(1);
    expect(judgeLlHlsPlaylist(text).violations).toEqual([]);
    expect(new Set(playlist.segments.map((s) => s.map.uri))).toEqual(new Set([initName(second!.streamId)]));
    // The first run's segments stay downloadable for a while, then go with its init segment.
    second!.frames(7 * 30);
    expect(p.resource(segmentName(first.streamId, 8))).toBeUndefined();
    expect(p.resource(initName(first.streamId))).toBeUndefined();
    expect(p.resource(initName(second!.streamId))).toBeDefined();
  });

  test('a stop clears everything; the next stream’s media sequence numbers carry on', () => {
    const p = packager();
    const first = new Run(p, media);
    first.frames(100);
    expect(p.stats().bytesHeld).toBeGreaterThan(0);
    p.clear();
    expect(p.playlist()).toBeUndefined();
    expect(p.stats()).toMatchObject({ bytesHeld: 0, segmentsHeld: 0, partsHeld: 0, waiting: 0 });
    expect(p.resource(initName(first.streamId))).toBeUndefined();
    // Bytes of the old run after the stop are ignored.
    first.reader.push(media.fragments[100]!);
    expect(p.playlist()).toBeUndefined();
    const next = new Run(p, media);
    next.frames(40);
    const playlist = parseMediaPlaylist(p.playlist()!);
    expect(playlist.mediaSequenceBase).toBe(4); // 0-3 were the first stream's
    expect(playlist.segments[0]!.discontinuity).toBeFalsy();
  });

  test('ffmpeg’s stream pushed in arbitrary chunks gives the same playlist as frame by frame', () => {
    const byFrame = packager({ now: () => 0 });
    new Run(byFrame, media).frames(300);
    const chunked = packager({ now: () => 0 });
    const streamId = newStreamId();
    const reader = remuxerRun(chunked, streamId);
    const end = media.init.length + media.fragments.slice(0, 300).reduce((sum, f) => sum + f.length, 0);
    for (let offset = 0; offset < end; offset += 4096) {
      reader.push(media.whole.subarray(offset, Math.min(end, offset + 4096)));
    }
    const ids = (text: string, id: string) => text.replaceAll(id, 'ID');
    const byFrameText = byFrame.playlist()!;
    const byFrameId = /URI="([0-9a-z]+-[0-9a-f]{8})-init\.mp4"/.exec(byFrameText)![1]!;
    expect(ids(chunked.playlist()!, streamId)).toBe(ids(byFrameText, byFrameId));
  });

  test('bytes that are not fMP4: the media reader throws Fmp4FormatError (the remuxer then stops that ffmpeg)', () => {
    const p = packager();
    const reader = remuxerRun(p);
    expect(() => reader.push(Buffer.alloc(1316, 0x47))).toThrow(/box size/);
    expect(p.playlist()).toBeUndefined();
  });
});
