/**
 * The capture-time stamp the test source draws on every frame, so glass-to-glass latency can be read
 * off the picture by any player that can see pixels. A band at the top left of the frame, defined for
 * a 640-pixel-wide frame and scaled with the frame's width:
 *
 *   | white guard | bit 31 | bit 30 | … | bit 0 | black guard |   34 blocks of 18 × 16 px = 612 × 16
 *
 * Bits are the 32 low bits of the capture time in epoch milliseconds, most significant first;
 * white = 1, black = 0. The guards tell a stamped frame from any other picture.
 * Pure: no Node, DOM or TypeBox, so the web client can import it cheaply.
 */

/** The frame width the geometry below is defined for. */
export const STAMP_REFERENCE_WIDTH = 640;
export const STAMP_BAND_WIDTH = 612;
export const STAMP_BAND_HEIGHT = 16;
export const STAMP_BLOCKS = 34;
export const STAMP_BLOCK_WIDTH = STAMP_BAND_WIDTH / STAMP_BLOCKS; // 18
export const STAMP_BITS = 32;

const TWO_POW_32 = 2 ** 32;
const MID_GREY = 128;
/** A block whose mean is closer than this to mid-grey is not a stamp block (or not readable). */
const MARGIN = 32;

/** The 32 low bits of an epoch-ms time, as an unsigned integer. */
export function stampValue(ms: number): number {
  const whole = Math.floor(ms);
  return ((whole % TWO_POW_32) + TWO_POW_32) % TWO_POW_32;
}

/** The 34 blocks for `ms`, left to right: 1 = white, 0 = black (guards included). */
export function stampBits(ms: number): (0 | 1)[] {
  const value = stampValue(ms);
  const blocks: (0 | 1)[] = [1];
  for (let bit = STAMP_BITS - 1; bit >= 0; bit--) blocks.push(Math.floor(value / 2 ** bit) % 2 === 1 ? 1 : 0);
  blocks.push(0);
  return blocks;
}

/** The band's size in a frame `frameWidth` pixels wide (fractional: scaled from 640). */
export function stampGeometry(frameWidth: number): { blockWidth: number; width: number; height: number } {
  const scale = frameWidth / STAMP_REFERENCE_WIDTH;
  return {
    blockWidth: STAMP_BLOCK_WIDTH * scale,
    width: STAMP_BAND_WIDTH * scale,
    height: STAMP_BAND_HEIGHT * scale,
  };
}

/**
 * Reads the stamp from a frame through `luma(x, y)` (0-255, integer pixel coordinates). Each block is
 * judged by the mean of a 3 × 3 grid in its middle (H.264 blurs the edges between blocks) against
 * mid-grey. Returns the 32-bit value (unsigned), or undefined when the guards are missing or a block is
 * neither clearly white nor clearly black: any picture without a stamp, which would otherwise pass
 * the two guards one time in four.
 */
export function readStamp(
  luma: (x: number, y: number) => number,
  frameWidth: number,
  frameHeight: number,
): number | undefined {
  const { blockWidth, width, height } = stampGeometry(frameWidth);
  if (!(frameWidth > 0) || width > frameWidth || height > frameHeight || blockWidth < 2) return undefined;
  const ys = [0.3, 0.5, 0.7].map((f) => Math.floor(height * f));
  const level = (block: number): number => {
    let sum = 0;
    for (const f of [0.3, 0.5, 0.7]) {
      const x = Math.floor((block + f) * blockWidth);
      for (const y of ys) sum += luma(x, y);
    }
    return sum / 9;
  };
  let value = 0;
  for (let block = 0; block < STAMP_BLOCKS; block++) {
    const mean = level(block);
    if (!(Math.abs(mean - MID_GREY) >= MARGIN)) return undefined; // also NaN
    const bit = mean > MID_GREY ? 1 : 0;
    if (block === 0 || block === STAMP_BLOCKS - 1) {
      if (bit !== (block === 0 ? 1 : 0)) return undefined; // white guard left, black guard right
    } else {
      value = value * 2 + bit;
    }
  }
  return value;
}

/**
 * The full epoch ms a 32-bit stamp stands for: of the times whose low 32 bits are `value`
 * (one every ~49.7 days), the one nearest `nowMs`.
 */
export function stampToEpochMs(value: number, nowMs: number): number {
  const candidate = Math.floor(nowMs) - stampValue(nowMs) + value;
  const options = [candidate - TWO_POW_32, candidate, candidate + TWO_POW_32];
  return options.reduce((best, t) => (Math.abs(t - nowMs) < Math.abs(best - nowMs) ? t : best));
}
