/**
 * Where a segmenter's input begins: at a keyframe, with the PAT and PMT put before it, so that
 * ffmpeg's one-packet probe finds SPS and PPS, also when it joins a running stream. Until then the
 * accepted stream's packets are dropped (counted by the caller); from then on each goes through.
 */
import { AccessUnitScanner, TS_PACKET } from './mpegts.js';

/** One packet of the accepted stream, as the filter read it. */
export interface GatePacket {
  readonly packet: Buffer;
  /** It starts a video PES; `dataOffset` is where the H.264 bytes begin. */
  readonly pesStart: boolean;
  readonly video: boolean;
  readonly dataOffset: number;
}

export class KeyframeGate {
  #state: 'waiting' | 'pending' | 'open' = 'waiting';
  /** From a video PES start until its access unit is read: PAT, PMT, and its packets. */
  #held: Buffer[] = [];
  #scanner = new AccessUnitScanner();

  get open(): boolean {
    return this.#state === 'open';
  }

  /** The stream begins here (a stream accepted from its keyframe). */
  openNow(): void {
    this.#state = 'open';
    this.#held = [];
  }

  /**
   * What to pass on for this packet: itself once open; the held packets when it completes a
   * keyframe's first slice; else nothing. `dropped` counts packets thrown away (PAT and PMT aside).
   */
  pass(
    { packet, pesStart, video, dataOffset }: GatePacket,
    psi: readonly [pat: Buffer, pmt: Buffer] | undefined,
    dropped: (count: number) => void,
  ): Buffer[] {
    if (this.#state === 'open') return [packet];
    if (this.#state === 'pending' && pesStart) this.#discard(dropped);
    if (this.#state === 'waiting') {
      if (!pesStart || !psi) {
        dropped(1);
        return [];
      }
      this.#state = 'pending';
      this.#held = [...psi];
      this.#scanner = new AccessUnitScanner();
    }
    this.#held.push(Buffer.from(packet));
    const kind = video ? this.#scanner.feed(packet, dataOffset, TS_PACKET) : this.#scanner.kind;
    if (kind === 'keyframe') {
      const held = this.#held;
      this.openNow();
      return held;
    }
    if (kind === 'other') this.#discard(dropped);
    return [];
  }

  #discard(dropped: (count: number) => void): void {
    dropped(this.#held.length - 2);
    this.#held = [];
    this.#state = 'waiting';
  }
}
