/**
 * PART-TARGET from the camera's frame rate. A part holds whole frames and must not last longer than
 * PART-TARGET; all but the last part of a segment should last at least 85 % of it (RFC 8216bis
 * §4.4.4.9). A fixed 200 ms suits 30 and 25 fps, not 29.97 fps: 6 frames (200.2 ms) overrun it,
 * 5 frames (166.8 ms) fall under 85 %. So the target is a whole number of the camera's frames, near
 * 200 ms, with a little headroom for cameras whose timestamps come from the sensor and wobble.
 */

/** What a part aims at when the frame rate decides: about 200 ms (3 parts to hold back: 0.6 s). */
export const AIM_SECONDS = 0.2;
/** A frame may last this much longer than the nominal one before a part loses a frame. */
export const JITTER_HEADROOM = 0.02;

/** Frame rates cameras use; a measured frame duration within 2 % of one of them is taken as it. */
const STANDARD_RATES = [
  5,
  10,
  12,
  15,
  20,
  24000 / 1001,
  24,
  25,
  30000 / 1001,
  30,
  48,
  50,
  60000 / 1001,
  60,
  90,
  100,
  120,
];

/** The nominal frame duration (s) for a measured one: snapped to a standard rate when close. */
export function nominalFrameSeconds(measured: number): number {
  if (!(measured > 0) || !Number.isFinite(measured)) throw new RangeError(`no frame duration: ${measured}`);
  let best = measured;
  let bestError = 0.02;
  for (const rate of STANDARD_RATES) {
    const error = Math.abs(measured * rate - 1);
    if (error < bestError) {
      best = 1 / rate;
      bestError = error;
    }
  }
  return best;
}

export interface PartPlan {
  /** PART-TARGET, seconds, rounded up to the 5 decimals the playlist shows. */
  readonly partTarget: number;
  /** Frames a full part holds. */
  readonly framesPerPart: number;
}

/**
 * The part target for frames of `frameSeconds` (measured): as many whole frames as come closest to
 * `aim`, at least one, plus JITTER_HEADROOM, and never more than `maxSeconds` (a part must be
 * shorter than the target duration).
 */
export function planParts(frameSeconds: number, aim = AIM_SECONDS, maxSeconds = 1): PartPlan {
  const frame = nominalFrameSeconds(frameSeconds);
  const framesPerPart = Math.max(1, Math.min(Math.round(aim / frame), Math.floor(maxSeconds / frame) || 1));
  const partTarget = ceil5(framesPerPart * frame * (1 + JITTER_HEADROOM));
  return { partTarget, framesPerPart };
}

/** Rounded up to 5 decimals (never below what it was, so a full part still fits what is rendered). */
const ceil5 = (seconds: number): number => Math.ceil(seconds * 1e5 - 1e-6) / 1e5;
