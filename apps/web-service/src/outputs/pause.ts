/** Where the camera's video paused, for the outputs that write segments (plain HLS, recordings). */
import { withSampleDuration } from '../ingest/fmp4.js';
import type { MediaFrame } from './output.js';

/**
 * ffmpeg writes a frame once the next one arrives, lasting until then: the last frame before a pause
 * lasts the whole pause. A frame longer than `gapMs` (and than 4 ordinary frames) ends a pause: it is
 * given an ordinary duration (`ordinary`, undefined when it cannot be) and the output goes on after a
 * gap. Undefined: an ordinary frame.
 */
export function endOfPause(
  frame: MediaFrame,
  run: { readonly timescale: number; readonly lastFrameTicks: number },
  gapMs = 500,
): { ordinary: MediaFrame | undefined } | undefined {
  const gapTicks = Math.max((gapMs / 1000) * run.timescale, 4 * run.lastFrameTicks);
  if (run.lastFrameTicks === 0 || frame.duration <= gapTicks) return undefined;
  return { ordinary: withSampleDuration(frame, run.lastFrameTicks) };
}
