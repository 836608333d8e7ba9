/**
 * The LL-HLS packager and the camera's keyframes, fed real fMP4 from ffmpeg: where the first segment
 * ends for a camera without an early keyframe (the quick start), a restarted segmenter's run, PART-TARGET
 * from the frame rate, and segments cut between keyframes so none outgrows EXT-X-TARGETDURATION.
 */
import { describe, expect, test } from 'vitest';
import { partName, segmentName } from '../src/outputs/names.js';
import { encodeFmp4, splitFmp4 } from './helpers/fmp4-media.js';
import { judgeAll, packager, Run } from './helpers/packager-run.js';
import { completeSegments, parseMediaPlaylist } from '../../../test/helpers/ll-hls.js';
import { haveTools } from '../../../test/helpers/tools.js';

const ready = haveTools('ffmpeg');

describe.runIf(ready)('LlHlsPackager and the camera’s keyframes', () => {
  /** Every part and segment the packager lists while `frames` are pushed, as the playlist had them. */
  function startOf(p: ReturnType<typeof packager>, run: Run, frames: number) {
    let firstSegmentAt: number | undefined;
    const { last } = judgeAll(p, (after) =>
      run.frames(frames, () => {
        after();
        if (firstSegmentAt === undefined && p.hasSegment(run.streamId)) firstSegmentAt = run.framesPushed;
      }),
    );
    return { firstSegmentAt, last, model: p.model()! };
  }

  test('a camera with a 1 s GOP and no early keyframe: playable after its first part; each part a segment until the second keyframe, the first listed without its part; then 1 s segments on keyframes', async () => {
    const whole = await encodeFmp4({ seconds: 6 });
    const media = { whole, ...splitFmp4(whole) };
    const p = packager({ quickStart: true });
    const run = new Run(p, media);
    const playable = p.waitUntilPlayable(run.streamId, new AbortController().signal);
    const { firstSegmentAt, last, model } = startOf(p, run, media.fragments.length);
    await playable;
    expect(firstSegmentAt).toBe(3); // frames 0-2: half a part is the stream's first segment
    // Keyframes at 0, 30, 60…: segment 0 is frames 0-2, segments 1-4 a part each (6 frames), segment 5
    // the frames until the keyframe at 30, then 1 s each.
    const bounds = [0, 3, 9, 15, 21, 27, 30, 60, 90];
    for (let msn = 0; msn < bounds.length - 1; msn++) {
      const frames = media.fragments.slice(bounds[msn], bounds[msn + 1]);
      expect(p.resource(segmentName(run.streamId, msn))!.equals(Buffer.concat(frames)), `${msn}`).toBe(true);
    }
    expect(
      completeSegments(last)
        .map((s) => s.duration)
        .slice(-4),
    ).toEqual([1, 1, 1, 1]);
    // Only the segments that begin on a keyframe are independent; no EXT-X-INDEPENDENT-SEGMENTS.
    expect(model.segments.filter((s) => s.msn >= 6).every((s) => s.independent)).toBe(true);
    expect(p.playlist()).not.toContain('EXT-X-INDEPENDENT-SEGMENTS');
  });

  test('the first segment alone is listed without its part; a blocking reload still finds it', async () => {
    const whole = await encodeFmp4({ seconds: 2 });
    const media = { whole, ...splitFmp4(whole) };
    const p = packager({ quickStart: true });
    const run = new Run(p, media);
    run.frames(3);
    let text = p.playlist()!;
    expect(text).toContain(`#EXTINF:0.10000,\n${segmentName(run.streamId, 0)}`);
    expect(text).not.toContain('#EXT-X-PART:');
    expect(text).toContain(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partName(run.streamId, 1, 0)}"`);
    run.frames(6);
    text = p.playlist()!;
    expect(text).not.toContain(partName(run.streamId, 0, 0));
    expect(text).toContain(`#EXT-X-PART:DURATION=0.20000,URI="${partName(run.streamId, 1, 0)}"\n`);
    const ready = await p.waitForPlaylist(1, 0, new AbortController().signal, 100);
    expect(ready).toEqual({ ok: true, value: undefined });
  });

  test('a second keyframe 0.2 s in (as our agent sends): the same start, 1 s segments from the first keyframe after two segments', async () => {
    const whole = await encodeFmp4({ seconds: 6, forceKeyFrames: 'expr:eq(n,6)' });
    const media = { whole, ...splitFmp4(whole) };
    const p = packager({ quickStart: true });
    const run = new Run(p, media);
    const { firstSegmentAt, last } = startOf(p, run, media.fragments.length);
    expect(firstSegmentAt).toBe(3);
    // Keyframes at 0, 6, 36, 66…: the one at 6 falls inside segment 1 (frames 3-8); 1 s segments from
    // the keyframe at 36.
    expect(p.resource(segmentName(run.streamId, 1))!.equals(Buffer.concat(media.fragments.slice(3, 9)))).toBe(
      true,
    );
    expect(
      p.resource(segmentName(run.streamId, 7))!.equals(Buffer.concat(media.fragments.slice(36, 66))),
    ).toBe(true);
    expect(
      completeSegments(last)
        .map((s) => s.duration)
        .slice(-4),
    ).toEqual([1, 1, 1, 1]);
  });

  test('quickStart: false: the first segment ends at the second keyframe, as every other', async () => {
    const whole = await encodeFmp4({ seconds: 3 });
    const media = { whole, ...splitFmp4(whole) };
    const p = packager({ quickStart: false });
    const run = new Run(p, media);
    const { firstSegmentAt, model } = startOf(p, run, media.fragments.length);
    expect(firstSegmentAt).toBe(31); // the keyframe at 30 ends segment 0
    expect(model.segments.every((s) => s.independent)).toBe(true);
  });

  test('a restarted segmenter: its run has no quick start (players already playing join it; a client without LL support would start a short segment between keyframes)', async () => {
    const whole = await encodeFmp4({ seconds: 3 });
    const media = { whole, ...splitFmp4(whole) };
    const p = packager({ quickStart: true });
    new Run(p, media).frames(45);
    const second = new Run(p, media, { discontinuity: true });
    second.frames(media.fragments.length);
    const ofSecond = p.model()!.segments.filter((s) => s.uri.startsWith(second.streamId));
    expect(ofSecond.map((s) => s.duration).slice(0, 2)).toEqual([1, 1]);
    expect(ofSecond.every((s) => s.independent)).toBe(true);
  });

  test('PART-TARGET from the frame rate when none is configured: 25 fps, five frames a part', async () => {
    const whole = await encodeFmp4({ seconds: 3, fps: 25, gop: 25 });
    const media = { whole, ...splitFmp4(whole) };
    const p = packager({ quickStart: true, partTarget: undefined });
    const run = new Run(p, media);
    const { last } = startOf(p, run, media.fragments.length);
    expect(last.partTargetDuration).toBeCloseTo(0.204, 5);
    // The 1 s segments (the quick start's may end on a shorter part, before the keyframe).
    for (const segment of completeSegments(last).filter((s) => s.duration > 0.95)) {
      for (const part of segment.parts) expect(part.duration).toBeCloseTo(0.2, 5);
    }
    p.clear(); // the next stream may be another camera: decided again
    expect(p.partTarget).toBeCloseTo(0.2, 5);
  });

  test('segments are cut between keyframes so that none outgrows EXT-X-TARGETDURATION; parts stay within PART-TARGET', async () => {
    const whole = await encodeFmp4({ seconds: 8, gop: 75 }); // a keyframe every 2.5 s
    const media = { whole, ...splitFmp4(whole) };
    const p = packager();
    const run = new Run(p, media);
    run.frames(media.fragments.length);
    const playlist = parseMediaPlaylist(p.playlist()!);
    const complete = completeSegments(playlist);
    expect(complete.length).toBeGreaterThanOrEqual(5);
    for (const segment of complete) {
      expect(Math.round(segment.duration)).toBeLessThanOrEqual(1);
      for (const part of segment.parts) expect(part.duration).toBeLessThanOrEqual(0.2);
    }
    // Only the segments that begin on a keyframe start with an INDEPENDENT part.
    const model = p.model()!;
    expect(model.segments.some((segment) => !segment.independent)).toBe(true);
  });
});
