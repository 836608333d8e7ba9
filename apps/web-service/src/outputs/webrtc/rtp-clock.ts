/**
 * The camera's frames on one 90 kHz RTP clock (RFC 6184 5.1), from each fragment's decode time. A
 * new run (a restarted remuxer: its timestamps start over) continues where the last frame ended, so
 * a viewer's timestamps never jump back. Values are unbounded here; a viewer adds its random offset
 * and wraps to 32 bits.
 *
 * Where a frame should start if none is missing (`expected`) is read from the pace of the frames
 * before, not from the last one's duration: the live remuxer writes a fragment when the next frame
 * comes, with the duration up to it, so the frame before a cut spans the cut and would hide it.
 */
export const RTP_CLOCK_RATE = 90_000;

/** A frame's length when its duration is unknown (0): 1/30 s. */
const FALLBACK_TICKS = RTP_CLOCK_RATE / 30;

export class RtpClock {
  #timescale = RTP_CLOCK_RATE;
  /** The run's first decode time, and the RTP time it maps to; undefined until its first frame. */
  #anchor: { decodeTime: number; rtp: number } | undefined;
  /** Where the next run starts: the end of the last frame. */
  #next = 0;
  /** The RTP time of this run's last frame, and the step to it from the one before (0: none yet). */
  #last: { rtp: number; step: number } | undefined;

  /** A run begins: its decode times start over, in `timescale` ticks a second. */
  run(timescale: number): void {
    this.#timescale = timescale;
    this.#anchor = undefined;
    this.#last = undefined;
  }

  /** Where the last frame ended (its duration's end): where a new run starts. */
  get next(): number {
    return this.#next;
  }

  /**
   * The RTP time the next frame of this run should have if none is missing: the last one's plus the
   * step before it; the run's second frame, the first's end; the run's first, `next`.
   */
  get expected(): number {
    if (!this.#last?.step) return this.#next;
    return this.#last.rtp + this.#last.step;
  }

  /** The RTP time of a frame of this run. */
  at(decodeTime: number, duration: number): number {
    this.#anchor ??= { decodeTime, rtp: this.#next };
    const rtp = this.#anchor.rtp + this.#ticks(decodeTime - this.#anchor.decodeTime);
    this.#next = Math.max(this.#next, rtp + (this.#ticks(duration) || FALLBACK_TICKS));
    const step = this.#last ? rtp - this.#last.rtp : 0;
    this.#last = { rtp, step: step > 0 ? step : 0 };
    return rtp;
  }

  #ticks(value: number): number {
    return Math.round((value * RTP_CLOCK_RATE) / this.#timescale);
  }
}
