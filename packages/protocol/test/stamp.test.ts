import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  readStamp,
  STAMP_BAND_HEIGHT,
  STAMP_BAND_WIDTH,
  STAMP_BLOCK_WIDTH,
  STAMP_BLOCKS,
  stampBits,
  stampToEpochMs,
  stampValue,
} from '@camstream/protocol';
import { seededRandom } from '../../../test/helpers/random.js';

const MS = 1_712_345_678_901; // an epoch-ms time in 2024
const TWO_POW_32 = 2 ** 32;

interface Frame {
  width: number;
  height: number;
  luma: (x: number, y: number) => number;
}

/**
 * A frame as a decoder would hand it over: video-range levels (16 black, 235 white), the band scaled
 * to the frame's width, edges between blocks smeared over `blur` pixels, uniform noise of ±`noise`.
 */
function stampedFrame(
  ms: number,
  width: number,
  height: number,
  { noise = 0, blur = 0, seed = 1 } = {},
): Frame {
  const scale = width / 640;
  const blocks = stampBits(ms);
  const next = seededRandom(seed);
  const pixels = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let level = 128 + 60 * Math.sin(x / 7 + y / 5); // a busy picture outside the band
      if (y < STAMP_BAND_HEIGHT * scale && x < STAMP_BAND_WIDTH * scale) {
        // Box blur across block edges: average the ideal level over [x - blur, x + blur].
        let sum = 0;
        for (let dx = -blur; dx <= blur; dx++) {
          const block = Math.min(
            STAMP_BLOCKS - 1,
            Math.max(0, Math.floor((x + dx) / (STAMP_BLOCK_WIDTH * scale))),
          );
          sum += blocks[block] === 1 ? 235 : 16;
        }
        level = sum / (2 * blur + 1);
      }
      pixels[y * width + x] = Math.min(255, Math.max(0, Math.round(level + (next() * 2 - 1) * noise)));
    }
  }
  return { width, height, luma: (x, y) => pixels[y * width + x]! };
}

const read = (frame: Frame) => readStamp(frame.luma, frame.width, frame.height);

describe('stamp format', () => {
  test('34 blocks of 18 px in a 612 × 16 band', () => {
    expect([STAMP_BAND_WIDTH, STAMP_BAND_HEIGHT, STAMP_BLOCKS, STAMP_BLOCK_WIDTH]).toEqual([612, 16, 34, 18]);
  });

  test('white guard, the 32 low bits MSB first, black guard', () => {
    expect(stampBits(0)).toEqual([1, ...Array<number>(32).fill(0), 0]);
    expect(stampBits(TWO_POW_32 - 1)).toEqual([1, ...Array<number>(32).fill(1), 0]);
    expect(stampBits(TWO_POW_32 + 5)).toEqual([1, ...Array<number>(29).fill(0), 1, 0, 1, 0]);
    expect(stampBits(2 ** 31)).toEqual([1, 1, ...Array<number>(31).fill(0), 0]);
  });

  test('the value is the 32 low bits of the whole milliseconds, unsigned', () => {
    expect(stampValue(MS)).toBe(MS % TWO_POW_32);
    expect(stampValue(MS + 0.9)).toBe(MS % TWO_POW_32);
    expect(stampValue(-1)).toBe(TWO_POW_32 - 1);
  });
});

describe('readStamp', () => {
  test('reads a clean 640 × 480 frame', () => {
    expect(read(stampedFrame(MS, 640, 480))).toBe(stampValue(MS));
  });

  test.each([
    [320, 240],
    [480, 360],
    [960, 540],
    [1280, 720],
    [1920, 1080],
  ])('reads a frame scaled to %i × %i', (width, height) => {
    expect(read(stampedFrame(MS, width, height, { blur: Math.round(width / 320) }))).toBe(stampValue(MS));
  });

  test('reads through blurred edges and heavy noise', () => {
    for (let seed = 1; seed <= 20; seed++) {
      expect(read(stampedFrame(MS + seed * 33, 640, 480, { blur: 4, noise: 90, seed }))).toBe(
        stampValue(MS + seed * 33),
      );
    }
  });

  test('every value round-trips (all ones, all zeros, any)', () => {
    for (const ms of [0, TWO_POW_32 - 1, 2 ** 31, MS])
      expect(read(stampedFrame(ms, 640, 32))).toBe(stampValue(ms));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 42 }), (ms) => {
        expect(read(stampedFrame(ms, 640, 20, { blur: 2, noise: 40, seed: ms }))).toBe(stampValue(ms));
      }),
      { numRuns: 50 },
    );
  });

  test('a frame without a stamp reads as undefined', () => {
    const busy = stampedFrame(MS, 640, 480);
    const unstamped: Frame = { ...busy, luma: (x, y) => 128 + 60 * Math.sin(x / 7 + y / 5) };
    expect(read(unstamped)).toBeUndefined();
    expect(read({ width: 640, height: 480, luma: () => 255 })).toBeUndefined(); // no black guard
    expect(read({ width: 640, height: 480, luma: () => 0 })).toBeUndefined(); // no white guard
    expect(read({ ...busy, luma: (x, y) => 255 - busy.luma(x, y) })).toBeUndefined(); // inverted
    for (let seed = 1; seed <= 20; seed++) {
      const next = seededRandom(seed);
      expect(read({ width: 640, height: 480, luma: () => Math.floor(next() * 256) })).toBeUndefined();
    }
  });

  test('a frame too small to hold the band reads as undefined', () => {
    expect(readStamp(() => 0, 0, 0)).toBeUndefined();
    expect(readStamp(() => 0, 640, 10)).toBeUndefined();
    expect(readStamp(() => 0, 32, 32)).toBeUndefined();
  });
});

describe('stampToEpochMs', () => {
  test('the time with these low bits nearest now', () => {
    expect(stampToEpochMs(stampValue(MS), MS + 1500)).toBe(MS);
    expect(stampToEpochMs(stampValue(MS), MS - 1500)).toBe(MS);
    expect(stampToEpochMs(stampValue(MS), MS)).toBe(MS);
  });

  test('across the wrap of the 32 low bits, both ways', () => {
    const wrap = Math.ceil(MS / TWO_POW_32) * TWO_POW_32;
    expect(stampToEpochMs(stampValue(wrap - 100), wrap + 2000)).toBe(wrap - 100); // stamp before, now after
    expect(stampToEpochMs(stampValue(wrap + 100), wrap - 2000)).toBe(wrap + 100); // a clock ahead of ours
  });

  test('any stamp within ±24 days of now comes back exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 44 }),
        fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }),
        (ms, offset) => {
          expect(stampToEpochMs(stampValue(ms), ms + offset)).toBe(ms);
        },
      ),
    );
  });
});
