/**
 * The `webrtc` output: the camera's frames to its WHEP viewers, as they arrive. Per frame, once: the
 * NAL units out of the mdat (avc.ts), the SPS and PPS ahead of a keyframe, the RFC 6184 payloads
 * (rtp-h264.ts) and the 90 kHz time (rtp-clock.ts); then each viewer wraps them in its own packets
 * (viewer.ts). Everything is synchronous and nothing is awaited: the fan-out never waits on it, and
 * one viewer never waits on another. With no viewer a frame costs its clock and a reference kept
 * until the next keyframe (gop.ts): a new viewer starts from the last keyframe, not the next one.
 *
 * Sessions (session.ts) are opened by the WHEP routes (routes/whep.ts) through `open`, at most
 * `maxViewers` at once, only while the camera streams (an init has come and no `clear` since); all
 * end when the stream stops (`clear`) or the service shuts down (`refuseNewWork`).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { createError } from '../../errors.js';
import { LogBudget } from '../../log-budget.js';
import type { MediaEnd, MediaFrame, MediaGap, MediaInit, Output } from '../output.js';
import { frameNalUnits, parseAvcConfig, type AvcConfig } from './avc.js';
import { answerOffer, loadWerift, NoPortError, type PeerSettings } from './peer.js';
import { GopCache } from './gop.js';
import { keyframeUnits, packetizeAccessUnit } from './rtp-h264.js';
import { RTP_CLOCK_RATE, RtpClock } from './rtp-clock.js';
import { OfferError } from './sdp.js';
import { WhepSession, type SessionTimeouts } from './session.js';
import type { RtpFrame, Viewer } from './viewer.js';

/** A frame's NAL units out of its mdat, the SPS and PPS ahead of a keyframe, as RTP payloads. */
function packetizeFrame(bytes: Buffer, keyframe: boolean, rtpTime: number, avc: AvcConfig): RtpFrame {
  const nals = frameNalUnits(bytes, avc.lengthSize);
  if (!keyframe) return { payloads: packetizeAccessUnit(nals), rtpTime, keyframe };
  const { parameterSets, units } = keyframeUnits(nals, avc);
  return { payloads: packetizeAccessUnit(units, { parameterSets }), rtpTime, keyframe };
}

/**
 * A frame this far (90 kHz ticks: 0.5 s) past where the frames' pace puts it (rtp-clock.ts
 * `expected`) is after a cut: frames it refers to never came. Far above a camera's jitter or a
 * dropped frame or two.
 */
export const MAX_FRAME_JUMP = 45_000;

export interface WebRtcOutputOptions {
  readonly cameraId: string;
  readonly maxViewers: number;
  readonly peer: PeerSettings;
  readonly timeouts?: SessionTimeouts;
  readonly logger: FastifyBaseLogger;
}

export interface WebRtcStats {
  /** Sessions open now (negotiating included). */
  readonly sessions: number;
  readonly sessionsTotal: number;
  readonly packetsSent: number;
  readonly bytesSent: number;
}

export class WebRtcOutput implements Output {
  readonly name = 'webrtc';
  readonly #options: WebRtcOutputOptions;
  readonly #log: FastifyBaseLogger;
  readonly #logBudget = new LogBudget(5, 10_000);
  readonly #sessions = new Map<string, WhepSession>();
  /** Offers being answered: they hold a place under maxViewers. */
  #negotiating = 0;
  #avc: AvcConfig | undefined;
  readonly #clock = new RtpClock();
  readonly #gop = new GopCache();
  #closing = false;
  #totals = { sessions: 0, packets: 0, bytes: 0 };

  constructor(options: WebRtcOutputOptions) {
    this.#options = options;
    this.#log = options.logger.child({ output: 'webrtc' });
  }

  /** A viewer may join: the camera's stream is on (its init came) and the service is not closing. */
  get streaming(): boolean {
    return this.#avc !== undefined && !this.#closing;
  }

  init(init: MediaInit): void {
    try {
      this.#gop.clear();
      this.#avc = parseAvcConfig(init.bytes);
    } catch (err) {
      this.#avc = undefined;
      this.#log.error({ err }, 'the camera’s stream is not H.264 as WebRTC needs it: no WebRTC');
      for (const session of this.#sessions.values()) void session.close('the stream is not H.264');
      return;
    }
    this.#clock.run(init.timescale);
    // Loaded now, so that the first viewer's answer does not wait for it (nor miss a keyframe).
    loadWerift().catch((err: unknown) => this.#log.error({ err }, 'werift could not be loaded'));
    // A new run's first frame is a keyframe; a viewer resumes there.
    for (const session of this.#sessions.values()) session.viewer.awaitKeyframe();
  }

  frame(frame: MediaFrame): void {
    const avc = this.#avc;
    if (!avc) return;
    const expected = this.#clock.expected;
    const rtpTime = this.#clock.at(frame.decodeTime, frame.duration);
    if (!frame.keyframe && rtpTime - expected > MAX_FRAME_JUMP) {
      // Frames are missing: the video was cut and came back mid-GOP, before INPUT_SILENCE_MS told
      // us, or after its gap once the remuxer's last frames of before the cut (a keyframe among
      // them) restarted the viewers. This one refers to lost frames: viewers wait for a keyframe.
      if (this.#logBudget.spend().log) {
        const missingMs = Math.round(((rtpTime - expected) * 1000) / RTP_CLOCK_RATE);
        this.#log.info(
          { missingMs },
          'frames missing after a cut: WebRTC viewers wait for the next keyframe',
        );
      }
      this.gap({ reason: 'frames missing' });
      return;
    }
    this.#gop.push(frame.bytes, rtpTime, frame.keyframe);
    if (this.#sessions.size === 0) return;
    let rtpFrame: RtpFrame;
    try {
      rtpFrame = packetizeFrame(frame.bytes, frame.keyframe, rtpTime, avc);
    } catch (err) {
      this.#unpacketizable(err);
      return;
    }
    this.#gop.setLatest(rtpFrame);
    for (const session of this.#sessions.values()) {
      // Until its DTLS handshake is done, werift drops what is sent: the viewer starts after that.
      if (session.connectionState !== 'connected') continue;
      // A new viewer starts now, from the last keyframe, not at the next one.
      if (session.viewer.fresh && !frame.keyframe) this.#catchUp(session.viewer, rtpFrame);
      else session.viewer.send(rtpFrame);
    }
  }

  /**
   * Sends a new viewer the frames since the last keyframe (gop.ts), the newest included, paced
   * (viewer.ts startFrom). Their RTP times are squeezed to one tick apart, ending at the newest
   * frame's: a receiver shows them right away rather than at their own pace (which would keep the
   * viewer part of a GOP behind for good), and times still only go forward. Nothing kept (a gap, a
   * new run, past gop.ts's bounds): the viewer waits for the next keyframe.
   */
  #catchUp(viewer: Viewer, latest: RtpFrame): void {
    const avc = this.#avc!;
    let frames: RtpFrame[];
    try {
      frames = this.#gop.frames((bytes, keyframe, rtpTime) => packetizeFrame(bytes, keyframe, rtpTime, avc));
    } catch (err) {
      this.#unpacketizable(err);
      return;
    }
    if (frames.at(-1) !== latest) {
      viewer.send(latest);
      return;
    }
    const last = frames.length - 1;
    viewer.startFrom(frames.map((frame, i) => ({ ...frame, rtpTime: latest.rtpTime - (last - i) })));
  }

  #unpacketizable(err: unknown): void {
    if (this.#logBudget.spend().log) this.#log.warn({ err }, 'a frame could not be packetised: skipped');
    this.#gop.clear();
    for (const session of this.#sessions.values()) session.viewer.awaitKeyframe();
  }

  gap(_gap: MediaGap): void {
    this.#gop.clear();
    // Frames were lost (or the camera paused): a decoder needs a keyframe to go on cleanly.
    for (const session of this.#sessions.values()) session.viewer.awaitKeyframe();
  }

  end(_end: MediaEnd): void {
    this.#gop.clear();
    // The run is over; a restarted one follows (init) and viewers resume at its first keyframe.
    for (const session of this.#sessions.values()) session.viewer.awaitKeyframe();
  }

  /** The stream stopped (or is about to start): every session ends. */
  async clear(): Promise<void> {
    this.#avc = undefined;
    this.#gop.clear();
    await this.#closeAll('the camera’s stream stopped');
  }

  refuseNewWork(): void {
    this.#closing = true;
    void this.#closeAll('the service is shutting down');
  }

  /**
   * Answers a WHEP offer: a new session and its SDP answer. Throws the service's errors: not
   * streaming (409), too many viewers (503), a bad offer (400), no UDP port (503).
   */
  async open(offer: string): Promise<{ session: WhepSession; answer: string }> {
    const { cameraId, maxViewers } = this.#options;
    const avc = this.#avc;
    if (!avc || this.#closing) throw createError('WEB_ERR_WHEP_NOT_STREAMING', cameraId, cameraId);
    if (this.#sessions.size + this.#negotiating >= maxViewers) {
      throw createError('WEB_ERR_WHEP_MAX_VIEWERS', cameraId, maxViewers);
    }
    this.#negotiating += 1;
    let negotiated;
    try {
      negotiated = await answerOffer(this.#options.peer, offer, avc.profileLevelId);
    } catch (err) {
      if (err instanceof OfferError) throw createError('WEB_ERR_WHEP_BAD_OFFER', err.message);
      if (err instanceof NoPortError) throw createError('WEB_ERR_WHEP_NO_PORT', err.message);
      throw err;
    } finally {
      this.#negotiating -= 1;
    }
    if (!this.streaming) {
      // The stream stopped while the answer was made.
      await negotiated.peer.close().catch(() => {});
      throw createError('WEB_ERR_WHEP_NOT_STREAMING', cameraId, cameraId);
    }
    const id = randomUUID();
    const session = new WhepSession(id, negotiated, {
      ...(this.#options.timeouts && { timeouts: this.#options.timeouts }),
      onSendError: (err) => {
        if (this.#logBudget.spend().log) this.#log.warn({ err, session: id }, 'sending RTP failed');
      },
    });
    session.once('closed', (reason) => {
      // Its packets move to the totals (stats() adds those of the open sessions).
      const stats = session.viewer.stats();
      this.#totals.packets += stats.packetsSent;
      this.#totals.bytes += stats.bytesSent;
      this.#sessions.delete(id);
      this.#log.info({ session: id, reason, ...stats }, 'WebRTC viewer gone');
    });
    this.#sessions.set(id, session);
    this.#totals.sessions += 1;
    this.#log.info({ session: id, viewers: this.#sessions.size }, 'WebRTC viewer joined');
    return { session, answer: negotiated.answer };
  }

  get(id: string): WhepSession | undefined {
    return this.#sessions.get(id);
  }

  stats(): WebRtcStats {
    let packets = this.#totals.packets;
    let bytes = this.#totals.bytes;
    for (const session of this.#sessions.values()) {
      const stats = session.viewer.stats();
      packets += stats.packetsSent;
      bytes += stats.bytesSent;
    }
    return {
      sessions: this.#sessions.size + this.#negotiating,
      sessionsTotal: this.#totals.sessions,
      packetsSent: packets,
      bytesSent: bytes,
    };
  }

  async #closeAll(reason: string): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((session) => session.close(reason)));
  }
}
