/**
 * The camera's frames since its last keyframe, so that a new viewer starts at once instead of
 * waiting up to a whole GOP for the next keyframe: its first packets are that keyframe and the
 * frames after it, sent together (the decoder catches up in a burst and shows the newest frame), then
 * the live frames. Frames are kept as the fan-out gave them (a reference, no copy) and packetised
 * once, when a viewer first needs them. Forgotten at a gap, at the end of a run, and past the bounds
 * below (a long GOP at a high rate): a viewer then waits for the next keyframe as before.
 */
import type { RtpFrame } from './viewer.js';

/** Past either bound nothing is kept until the next keyframe (4 s at 2 Mbps fits). */
export const GOP_MAX_FRAMES = 600;
// 2 MiB is about 1,700 packets: under the viewer's MAX_PACKETS_IN_FLIGHT, so a burst is never cut short.
export const GOP_MAX_BYTES = 2 * 1024 * 1024;

interface Kept {
  readonly bytes: Buffer;
  readonly rtpTime: number;
  readonly keyframe: boolean;
  frame?: RtpFrame;
}

export class GopCache {
  #frames: Kept[] = [];
  #bytes = 0;

  /** Keeps a frame of the camera's (only from a keyframe on). */
  push(bytes: Buffer, rtpTime: number, keyframe: boolean): void {
    if (keyframe) this.clear();
    else if (this.#frames.length === 0) return;
    this.#bytes += bytes.length;
    if (this.#frames.length >= GOP_MAX_FRAMES || this.#bytes > GOP_MAX_BYTES) {
      this.clear();
      return;
    }
    this.#frames.push({ bytes, rtpTime, keyframe });
  }

  /** The last frame pushed, ready to send, once `packetize` made it (or undefined if not kept). */
  setLatest(frame: RtpFrame): void {
    const last = this.#frames.at(-1);
    if (last && last.rtpTime === frame.rtpTime) last.frame = frame;
  }

  /** From the keyframe to the newest frame, each packetised once by `packetize`; empty if none kept. */
  frames(packetize: (bytes: Buffer, keyframe: boolean, rtpTime: number) => RtpFrame): RtpFrame[] {
    return this.#frames.map((kept) => (kept.frame ??= packetize(kept.bytes, kept.keyframe, kept.rtpTime)));
  }

  get size(): number {
    return this.#frames.length;
  }

  clear(): void {
    this.#frames = [];
    this.#bytes = 0;
  }
}
