/**
 * One viewer's RTP stream: its own sequence numbers, a random timestamp offset, and its own packet
 * objects around the frame's shared payloads (werift rewrites a packet's header as it sends it, so a
 * packet is never handed to two senders). A viewer starts at a keyframe (the last one, its frames
 * since paced behind it: startFrom), and waits for the next one again after a gap or when its sends pile up: a viewer that cannot keep up loses frames, never holds
 * up the camera or the other viewers.
 */
import { randomInt } from 'node:crypto';
import type { RtpPayload } from './rtp-h264.js';

/** A frame ready to send: payloads shared by every viewer. */
export interface RtpFrame {
  readonly payloads: readonly RtpPayload[];
  /** On the 90 kHz clock (rtp-clock.ts), before the viewer's offset. */
  readonly rtpTime: number;
  readonly keyframe: boolean;
}

/** What differs between viewers' packets around the same payload. */
export interface RtpFields {
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly marker: boolean;
}

/** Sends one packet: a new werift RtpPacket each call (session.ts), to its RTCRtpSender. */
export type SendRtp = (fields: RtpFields, payload: Buffer) => Promise<unknown> | void;

export interface ViewerStats {
  readonly packetsSent: number;
  readonly bytesSent: number;
  readonly framesSent: number;
  /** Frames skipped while the viewer waited for a keyframe after falling behind. */
  readonly framesDropped: number;
}

/** Packets handed to the sender and not yet written: above this, the viewer skips to a keyframe. */
export const MAX_PACKETS_IN_FLIGHT = 2000;

/**
 * A catch-up (startFrom) goes out this many packets at a time, PACE_MS apart (about 4 MB/s, some 15
 * times a 2 Mbps camera: half a 1 s GOP in 60 ms): a whole GOP at once would overflow the receiver's
 * socket buffer (about 200 KB on Linux) or outrun a slow receiver, and lose packets.
 */
export const PACE_PACKETS = 20;
export const PACE_MS = 5;

export class Viewer {
  readonly #send: SendRtp;
  readonly #onError: (err: unknown) => void;
  #sequence = randomInt(0, 0x10000);
  readonly #timestampOffset = randomInt(0, 0x1_0000_0000);
  #waitingForKeyframe = true;
  #inFlight = 0;
  /** Frames of a catch-up not sent yet, and the live frames that came meanwhile, in order. */
  #backlog: RtpFrame[] = [];
  #pacer: NodeJS.Timeout | undefined;
  #stats = { packetsSent: 0, bytesSent: 0, framesSent: 0, framesDropped: 0 };
  readonly #settled = (): void => {
    this.#inFlight -= 1;
  };
  readonly #failed = (err: unknown): void => {
    this.#inFlight -= 1;
    this.#onError(err);
  };

  constructor(send: SendRtp, onError: (err: unknown) => void) {
    this.#send = send;
    this.#onError = onError;
  }

  /** Nothing sent yet: it may start from the last keyframe (output.ts catch-up). */
  get fresh(): boolean {
    return this.#waitingForKeyframe && this.#stats.framesSent === 0;
  }

  get started(): boolean {
    return !this.#waitingForKeyframe;
  }

  stats(): ViewerStats {
    return { ...this.#stats };
  }

  /** After a gap (frames lost) or a new run: the next frame this viewer gets is a keyframe. */
  awaitKeyframe(): void {
    this.stop();
    this.#waitingForKeyframe = true;
  }

  /**
   * A fresh viewer starts from these frames (the last keyframe and those since), paced; live frames
   * sent meanwhile queue behind them.
   */
  startFrom(frames: readonly RtpFrame[]): void {
    if (!this.fresh || !frames[0]?.keyframe) return;
    this.#backlog = [...frames];
    this.#drain();
  }

  /** No more sends: the backlog dropped, its timer cleared (the session ended). */
  stop(): void {
    clearTimeout(this.#pacer);
    this.#pacer = undefined;
    this.#backlog = [];
  }

  readonly #drain = (): void => {
    this.#pacer = undefined;
    let packets = 0;
    while (this.#backlog.length > 0 && packets < PACE_PACKETS) {
      const frame = this.#backlog.shift()!;
      packets += frame.payloads.length;
      this.#sendNow(frame);
    }
    if (this.#backlog.length > 0) this.#pacer = setTimeout(this.#drain, PACE_MS).unref();
  };

  send(frame: RtpFrame): void {
    if (this.#backlog.length > 0) this.#backlog.push(frame);
    else this.#sendNow(frame);
  }

  #sendNow(frame: RtpFrame): void {
    // Its sends are not completing: nothing more (a keyframe neither) until they drain, then the
    // next keyframe.
    const behind = this.#inFlight > MAX_PACKETS_IN_FLIGHT;
    if (behind) this.#waitingForKeyframe = true;
    if (behind || (this.#waitingForKeyframe && !frame.keyframe)) {
      if (this.#stats.framesSent > 0) this.#stats.framesDropped += 1;
      return;
    }
    this.#waitingForKeyframe = false;
    // Non-negative modulo: a catch-up frame (output.ts) may sit a few ticks before the clock's 0.
    const timestamp =
      (((frame.rtpTime + this.#timestampOffset) % 0x1_0000_0000) + 0x1_0000_0000) % 0x1_0000_0000;
    for (const { payload, marker } of frame.payloads) {
      const fields = { sequenceNumber: this.#sequence, timestamp, marker };
      this.#sequence = (this.#sequence + 1) & 0xffff;
      this.#inFlight += 1;
      try {
        const sent = this.#send(fields, payload);
        if (sent) sent.then(this.#settled, this.#failed);
        else this.#inFlight -= 1;
      } catch (err) {
        this.#failed(err);
      }
      this.#stats.packetsSent += 1;
      this.#stats.bytesSent += payload.length;
    }
    this.#stats.framesSent += 1;
  }
}
