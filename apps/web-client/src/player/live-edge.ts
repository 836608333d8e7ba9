/**
 * Holding the live edge of a Low-Latency HLS stream, as pure rules (Player.tsx applies them).
 *
 * hls.js aims at the playlist's PART-HOLD-BACK (0.6 s) but only plays faster to catch up when more
 * than 1 s is buffered, which never happens 0.6 s behind the edge; so after a stall the picture
 * would stay late. Here: a little faster (up to 1.2×, barely visible) while later than the target,
 * a seek when far behind (a background tab), and no start before a few parts are buffered (a start
 * on the first 200 ms part stalls at once, and every stall makes hls.js aim later).
 */

/** Buffered ahead of the playhead before playback starts: most of PART-HOLD-BACK. */
export const START_BUFFER_S = 0.45;
/** Start anyway after this long (a stream that trickles). */
export const START_WAIT_MS = 2_000;
/** Later than the target by more than this: play faster. */
export const CATCH_UP_ABOVE_S = 0.1;
export const MAX_CATCH_UP_RATE = 1.2;
/** Later than the target by more than this: seek (catching up would take too long). */
export const SEEK_ABOVE_S = 2.5;
/** Keep at least this much buffered while playing faster, or a stall follows. */
export const MIN_BUFFER_FOR_CATCH_UP_S = 0.2;

export interface EdgeInput {
  /** hls.js's latency estimate (s): live edge − playhead, from the playlist. */
  readonly latency: number | null;
  /** hls.js's target latency (s): PART-HOLD-BACK plus what stalls added. */
  readonly target: number | null;
  /** Seconds buffered ahead of the playhead. */
  readonly bufferAhead: number;
}

export type EdgeAction = { rate: number } | { seekBy: number };

export function holdLiveEdge({ latency, target, bufferAhead }: EdgeInput): EdgeAction {
  if (latency === null || target === null || !Number.isFinite(latency)) return { rate: 1 };
  const late = latency - target;
  if (late > SEEK_ABOVE_S && bufferAhead > late) return { seekBy: late };
  if (late > CATCH_UP_ABOVE_S && bufferAhead > MIN_BUFFER_FOR_CATCH_UP_S) {
    // Proportional: 0.1 s late → 1.05×, 0.4 s or more → 1.2×.
    const rate = Math.min(MAX_CATCH_UP_RATE, 1 + late / 2);
    return { rate: Math.round(rate * 100) / 100 };
  }
  return { rate: 1 };
}

/** Seconds of media buffered ahead of `currentTime` in the range that holds it. */
export function bufferedAhead(video: Pick<HTMLMediaElement, 'buffered' | 'currentTime'>): number {
  const { buffered, currentTime } = video;
  for (let i = 0; i < buffered.length; i += 1) {
    if (buffered.start(i) <= currentTime + 0.05 && currentTime < buffered.end(i)) {
      return buffered.end(i) - currentTime;
    }
  }
  return 0;
}
