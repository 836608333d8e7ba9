/**
 * Gaps in the camera's stream, as the packager meets them, with real fMP4 from ffmpeg and a wall
 * clock the test moves: a network drop (the frames' timestamps jump by the drop, the frames after
 * it arrive mid-GOP), a restarted or stopped encoder (delivery pauses, ffmpeg keeps the timestamps
 * continuous) and ordinary jitter (no gap). Every playlist on the way is judged against RFC 8216bis.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { Fmp4Reader, type Fragment } from '../src/ingest/fmp4.js';
import { segmentName } from '../src/outputs/names.js';
import { encodeFmp4, splitFmp4 } from './helpers/fmp4-media.js';
import { judgeAll, packager, Run, type Media } from './helpers/packager-run.js';
import { completeSegments } from '../../../test/helpers/ll-hls.js';
import { haveTools } from '../../../test/helpers/tools.js';

const ready = haveTools('ffmpeg');
const FRAME_MS = 1000 / 30;

/** A wall clock that moves one frame per pushed frame, plus whatever pause the test adds. */
function frameClock(start = 1_800_000_000_000) {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
}

function fragmentsOf(bytes: Buffer, init: Buffer): Fragment[] {
  const fragments: Fragment[] = [];
  const reader = new Fmp4Reader({ onInit: () => {}, onFragment: (f) => fragments.push(f) });
  reader.push(init);
  reader.push(bytes);
  return fragments;
}

describe.runIf(ready)('LlHlsPackager and gaps in the camera’s stream', () => {
  let drop: Media; // 6 s at 30 fps, a keyframe a second; the timestamps jump 5 s after frame 44
  let steady: Media; // 6 s at 30 fps, a keyframe a second
  beforeAll(async () => {
    const [a, b] = await Promise.all([
      encodeFmp4({ seconds: 6, setpts: 'N/(30*TB)+gte(N\\,45)*5/TB' }),
      encodeFmp4({ seconds: 6 }),
    ]);
    drop = { whole: a, ...splitFmp4(a) };
    steady = { whole: b, ...splitFmp4(b) };
    expect(drop.fragments).toHaveLength(180);
  });

  test('a network drop: the frame before it keeps an ordinary duration, the stream goes on at the next keyframe after EXT-X-DISCONTINUITY', () => {
    const clock = frameClock();
    const p = packager({ now: clock.now });
    const run = new Run(p, drop);
    const { last } = judgeAll(p, (after) =>
      run.frames(drop.fragments.length, () => {
        after();
        // ffmpeg writes frame 44 once frame 45 arrives, 5 s later.
        clock.ms += run.framesPushed === 44 ? 5000 : FRAME_MS;
      }),
    );
    const model = p.model()!;
    const all = [...model.segments, ...(model.open ? [model.open] : [])];
    const resumed = all.filter((s) => s.discontinuity);
    expect(resumed).toHaveLength(1);
    const before = all[all.indexOf(resumed[0]!) - 1]!;
    // The segment before the drop ends with frame 44 (frames 30-44: 0.5 s), as a frame of 1/30 s.
    expect(before.duration).toBeCloseTo(0.5, 5);
    const bytes = p.resource(segmentName(run.streamId, before.msn))!;
    const frames = fragmentsOf(bytes, drop.init);
    expect(frames).toHaveLength(15);
    expect(frames.map((f) => f.duration)).toEqual(frames.map(() => frames[0]!.duration));
    // The same frames, with one field rewritten.
    expect(bytes.length).toBe(Buffer.concat(drop.fragments.slice(30, 45)).length);
    expect(bytes.subarray(0, -drop.fragments[44]!.length)).toEqual(
      Buffer.concat(drop.fragments.slice(30, 44)),
    );
    // Frames 45-59 were encoded against frames that never arrived: dropped. 60 is a keyframe.
    const after = p.resource(segmentName(run.streamId, resumed[0]!.msn))!;
    expect(after.equals(Buffer.concat(drop.fragments.slice(60, 90)))).toBe(true);
    expect(resumed[0]!.independent).toBe(true);
    // The date-time after the drop is the wall clock when the stream came back, not 5 s behind it.
    const backAt = 1_800_000_000_000 + 59 * FRAME_MS + 5000;
    expect(Math.abs(resumed[0]!.programDateTime - backAt)).toBeLessThan(2 * FRAME_MS);
    expect(p.stats().gaps).toBe(1);
    for (const segment of completeSegments(last))
      for (const part of segment.parts) expect(part.duration).toBeLessThanOrEqual(0.2);
  });

  test('a restarted encoder (delivery pauses 1 s, the timestamps do not jump): a discontinuity at the next keyframe, no frame lost, the date-time caught up', () => {
    const clock = frameClock();
    const p = packager({ now: clock.now });
    const run = new Run(p, steady);
    judgeAll(p, (after) =>
      run.frames(steady.fragments.length, () => {
        after();
        clock.ms += run.framesPushed === 45 ? 1000 : FRAME_MS;
      }),
    );
    const model = p.model()!;
    const all = [...model.segments, ...(model.open ? [model.open] : [])];
    const resumed = all.filter((s) => s.discontinuity);
    expect(resumed).toHaveLength(1);
    // Frames 45-59 arrived after the pause but belong where they were: nothing is dropped.
    const index = all.indexOf(resumed[0]!);
    expect(all[index - 1]!.duration).toBeCloseTo(1, 5);
    expect(
      p
        .resource(segmentName(run.streamId, resumed[0]!.msn))!
        .equals(Buffer.concat(steady.fragments.slice(60, 90))),
    ).toBe(true);
    const backAt = 1_800_000_000_000 + 60 * FRAME_MS + 1000;
    expect(Math.abs(resumed[0]!.programDateTime - backAt)).toBeLessThan(2 * FRAME_MS);
    expect(p.stats().gaps).toBe(1);
  });

  test('the encoder restarted during the quick start (a pause at 0.5 s): a discontinuity at the next keyframe, with its parts listed; GOP segments from there', () => {
    const clock = frameClock();
    const p = packager({ now: clock.now, quickStart: true });
    const run = new Run(p, steady);
    judgeAll(p, (after) =>
      run.frames(steady.fragments.length, () => {
        after();
        clock.ms += run.framesPushed === 15 ? 1000 : FRAME_MS;
      }),
    );
    const model = p.model()!;
    const all = [...model.segments, ...(model.open ? [model.open] : [])];
    const resumed = all.filter((s) => s.discontinuity);
    expect(resumed).toHaveLength(1);
    // Media sequence numbers without a hole, and the segment after the pause a whole GOP.
    expect(all.map((s) => s.msn)).toEqual(all.map((_, i) => all[0]!.msn + i));
    expect(resumed[0]!.duration).toBeCloseTo(1, 5);
    expect(resumed[0]!.independent).toBe(true);
  });

  test('jitter is not a gap: frames in bursts and late by up to 0.4 s keep one continuous timeline', () => {
    const clock = frameClock();
    const p = packager({ now: clock.now });
    const run = new Run(p, steady);
    const start = clock.ms;
    judgeAll(p, (after) =>
      run.frames(steady.fragments.length, () => {
        after();
        // Every 20th frame arrives 0.4 s late, and the ones after it in a burst to catch up.
        const due = start + run.framesPushed * FRAME_MS;
        clock.ms = run.framesPushed % 20 === 0 ? due + 400 : Math.max(clock.ms, due);
      }),
    );
    const model = p.model()!;
    expect([...model.segments, model.open].some((s) => s?.discontinuity)).toBe(false);
    expect(p.stats().gaps).toBe(0);
  });
});
