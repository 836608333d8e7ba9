/**
 * A WHEP session: one viewer's peer connection and its RTP stream (viewer.ts), and when it ends. It
 * ends once, for the first of: DELETE; ICE or DTLS failure (connection state `failed` or `closed`);
 * `disconnected` for longer than `disconnectedMs`; never connected within `connectMs`; no RTCP from
 * the viewer for `inactiveMs` once connected (a page that went away without a DELETE: browsers send
 * receiver reports every second or so, and werift's ICE consent checks fail after ~30 s besides);
 * the camera's stream stopping; the service shutting down.
 */
import { EventEmitter } from 'node:events';
import type { RTCPeerConnection, RTCRtpSender } from 'werift';
import type { RtpClasses } from './peer.js';
import { Viewer, type RtpFields } from './viewer.js';

export interface SessionTimeouts {
  readonly connectMs: number;
  readonly disconnectedMs: number;
  readonly inactiveMs: number;
}

export const DEFAULT_SESSION_TIMEOUTS: SessionTimeouts = Object.freeze({
  connectMs: 15_000,
  disconnectedMs: 5_000,
  inactiveMs: 10_000,
});

export interface SessionEvents {
  /** Once, with why it ended; the peer connection is closing. */
  closed: [reason: string];
}

export class WhepSession extends EventEmitter<SessionEvents> {
  readonly id: string;
  readonly viewer: Viewer;
  readonly #peer: RTCPeerConnection;
  readonly #timeouts: SessionTimeouts;
  readonly #unsubscribe: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #lastRtcpAt = 0;
  #watch: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;
  #reason: string | undefined;

  constructor(
    id: string,
    { peer, sender, rtp }: { peer: RTCPeerConnection; sender: RTCRtpSender; rtp: RtpClasses },
    {
      timeouts = DEFAULT_SESSION_TIMEOUTS,
      onSendError,
    }: { timeouts?: SessionTimeouts; onSendError: (err: unknown) => void },
  ) {
    super();
    this.id = id;
    this.#peer = peer;
    this.#timeouts = timeouts;
    // A packet of its own for each send: werift rewrites the header in place (SSRC, payload type,
    // its offsets), so one packet object must never reach two senders.
    const send = (fields: RtpFields, payload: Buffer) =>
      sender.sendRtp(new rtp.RtpPacket(new rtp.RtpHeader({ ...fields, payloadType: 96 }), payload));
    this.viewer = new Viewer(send, onSendError);
    this.#unsubscribe.push(
      peer.connectionStateChange.subscribe((state) => this.#onState(state)).unSubscribe,
      sender.onRtcp.subscribe(() => {
        this.#lastRtcpAt = performance.now();
      }).unSubscribe,
    );
    this.#arm(timeouts.connectMs, 'the viewer never connected (ICE or DTLS did not complete)');
  }

  get connectionState(): RTCPeerConnection['connectionState'] {
    return this.#peer.connectionState;
  }

  /** Why it ended; undefined while it runs. */
  get endReason(): string | undefined {
    return this.#reason;
  }

  #onState(state: RTCPeerConnection['connectionState']): void {
    switch (state) {
      case 'connected':
        this.#disarm();
        this.#lastRtcpAt = performance.now();
        this.#watch ??= setInterval(() => this.#checkActivity(), 1000).unref();
        break;
      case 'disconnected':
        this.#arm(this.#timeouts.disconnectedMs, 'the viewer stayed disconnected');
        break;
      case 'failed':
        void this.close('ICE or DTLS failed');
        break;
      case 'closed':
        void this.close('the peer connection closed');
        break;
      default:
        break;
    }
  }

  #checkActivity(): void {
    if (performance.now() - this.#lastRtcpAt > this.#timeouts.inactiveMs) {
      void this.close(`no RTCP from the viewer for ${this.#timeouts.inactiveMs} ms`);
    }
  }

  #arm(ms: number, reason: string): void {
    this.#disarm();
    this.#timer = setTimeout(() => void this.close(reason), ms).unref();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Ends the session (idempotent); resolves once its peer connection is closed. */
  close(reason: string): Promise<void> {
    this.#closed ??= (async () => {
      this.#reason = reason;
      this.#disarm();
      clearInterval(this.#watch);
      this.viewer.stop();
      for (const unsubscribe of this.#unsubscribe) unsubscribe();
      this.emit('closed', reason);
      await this.#peer.close().catch(() => {});
    })();
    return this.#closed;
  }
}
