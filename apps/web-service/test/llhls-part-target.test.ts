import { describe, expect, test } from 'vitest';
import { nominalFrameSeconds, planParts } from '../src/outputs/ll-hls/part-target.js';

describe('PART-TARGET from the frame rate', () => {
  test.each([
    [30, 6, 0.204],
    [25, 5, 0.204],
    [30000 / 1001, 6, 0.20421],
    [24, 5, 0.2125],
    [60, 12, 0.204],
    [15, 3, 0.204],
    [10, 2, 0.204],
    [5, 1, 0.204],
  ])('%d fps: %d frames a part, PART-TARGET %d s', (fps, frames, target) => {
    const plan = planParts(1 / fps);
    expect(plan.framesPerPart).toBe(frames);
    expect(plan.partTarget).toBeCloseTo(target, 5);
  });

  test.each([25, 30000 / 1001, 30, 24, 60, 50])(
    '%d fps: a full part fits the target, and a part one frame short is still under it by less than 15 %% only when it must be',
    (fps) => {
      const frame = 1 / fps;
      const { partTarget, framesPerPart } = planParts(frame);
      // A full part, even with every frame 2 % long, fits; and it is at least 85 % of the target.
      expect(framesPerPart * frame * 1.02).toBeLessThanOrEqual(partTarget + 1e-9);
      expect(framesPerPart * frame).toBeGreaterThanOrEqual(0.85 * partTarget);
    },
  );

  test('a measured frame duration close to a standard rate is taken as that rate; others as they are', () => {
    expect(nominalFrameSeconds(3003 / 90000 + 0.0002)).toBeCloseTo(1001 / 30000, 9);
    expect(nominalFrameSeconds(0.0334)).toBeCloseTo(1001 / 30000, 9); // 29.94 fps: nearest 29.97
    expect(nominalFrameSeconds(1 / 7)).toBeCloseTo(1 / 7, 9); // 7 fps: no standard rate near
    expect(() => nominalFrameSeconds(0)).toThrow(RangeError);
  });

  test('a slow camera: one frame a part, never a part as long as the segment', () => {
    expect(planParts(0.5).framesPerPart).toBe(1);
    expect(planParts(2, 0.2, 1)).toMatchObject({ framesPerPart: 1 });
  });
});
