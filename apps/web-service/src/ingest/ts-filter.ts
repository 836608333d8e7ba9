/**
 * What reaches the segmenter from the UDP port: the camera's stream, and nothing else. Pure logic (an
 * injected clock), fed datagram by datagram; what passes goes on at once, datagram by datagram.
 *
 * - A datagram must be whole 188-byte TS packets with their sync bytes.
 * - Each sender (address:port) is read on its own: its PAT and PMT (CRC checked) name its H.264 PID.
 * - One sender's stream is accepted at a time. A stream (a sender's, or a new timeline of the accepted
 *   sender's: an encoder restart) is accepted when it starts with a keyframe (an IDR slice after SPS
 *   and PPS, with PAT and PMT before it) and its next frames continue that timeline: those frames are
 *   held until then (CONFIRM_FRAMES, ≈ 67 ms at 30 fps), and then passed on together. The accepted
 *   sender's keyframe after a pause of TAKEOVER_QUIET_MS is accepted at once.
 * - Of the accepted stream, the PAT, the PMT, the video PID (and a PCR PID of its own) are passed on,
 *   and a video PES whose timestamps do not continue its timeline is dropped with the rest of its PES.
 * - A segmenter attached to the filter gets nothing until a keyframe (PAT and PMT first), so that
 *   ffmpeg's one-packet probe always finds SPS and PPS, also when it joins a running stream.
 * Everything dropped is counted, by reason.
 */
import { emptyStats, type DatagramDrop, type FilterStats, type PacketDrop } from './drops.js';
import { KeyframeGate } from './keyframe-gate.js';
import {
  AccessUnitScanner,
  NULL_PID,
  PAT_PID,
  readHeader,
  readPat,
  readPesStart,
  readPmt,
  timestampStep,
  TS_PACKET,
  type AccessUnitKind,
  type Pmt,
  type TsHeader,
} from './mpegts.js';

/** Frames of a new stream (its keyframe first) that must continue one timeline before it is accepted. */
export const CONFIRM_FRAMES = 3;
/** A frame may be late by any amount (the network held it), but not this far ahead of the clock. */
export const AHEAD_TOLERANCE_MS = 1000;
/** A PTS more than this after its DTS is not a camera's (B-frames lead by a few frames). */
export const MAX_PTS_LEAD = 10 * 90_000;
/** Another sender's stream replaces the accepted one only once that has sent no video for this long. */
export const TAKEOVER_QUIET_MS = 250;
/** What a stream not yet accepted may hold (a few frames; a keyframe at 2 Mbps is ≈ 60 kB). */
const MAX_HELD_BYTES = 4 * 1024 * 1024;
/** Senders remembered at once (the camera, and whatever else sends to the port). */
const MAX_SENDERS = 16;

export interface TimelineAccepted {
  readonly sender: string;
  /** `first`: nothing was accepted before; `sender`: another sender took over; `restart`: same sender. */
  readonly change: 'first' | 'sender' | 'restart';
}

export interface TsFilterOptions {
  readonly now?: () => number;
  readonly onTimeline?: (event: TimelineAccepted) => void;
  /** Called for each drop (for a throttled log line). */
  readonly onDrop?: (reason: PacketDrop | DatagramDrop, sender: string) => void;
}

interface Timeline {
  dts: number;
  at: number;
}

interface Candidate {
  held: Buffer[];
  bytes: number;
  frames: number;
  last: Timeline;
  scanner: AccessUnitScanner;
}

interface Track {
  readonly sender: string;
  lastSeen: number;
  pmtPid?: number;
  pmt?: Pmt;
  pat?: Buffer;
  pmtPacket?: Buffer;
  timeline?: Timeline;
  /** What happens to the rest of the current video PES. */
  pes: 'pass' | 'hold' | PacketDrop;
  candidate?: Candidate;
  lastVideoAt: number;
}

export class TsFilter {
  readonly #now: () => number;
  readonly #onTimeline: (event: TimelineAccepted) => void;
  readonly #onDrop: (reason: PacketDrop | DatagramDrop, sender: string) => void;
  readonly #tracks = new Map<string, Track>();
  #active: Track | undefined;
  #sink: ((chunk: Buffer) => void) | undefined;
  #gate = new KeyframeGate();
  /** What this datagram passes on. */
  #out: Buffer[] = [];
  readonly #stats = emptyStats();

  constructor(options: TsFilterOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#onTimeline = options.onTimeline ?? (() => {});
    this.#onDrop = options.onDrop ?? (() => {});
  }

  /** The sender whose stream is passed on, if any. */
  get acceptedSender(): string | undefined {
    return this.#active?.sender;
  }

  stats(): FilterStats {
    return structuredClone(this.#stats);
  }

  /**
   * Where the clean stream goes (a segmenter's stdin), from the next keyframe on; undefined: nowhere.
   */
  setSink(sink: ((chunk: Buffer) => void) | undefined): void {
    this.#sink = sink;
    this.#gate = new KeyframeGate();
  }

  /** Forgets every sender and timeline (a stream ended: the next one is accepted afresh); counts stay. */
  reset(): void {
    this.#tracks.clear();
    this.#active = undefined;
    this.#sink = undefined;
    this.#gate = new KeyframeGate();
  }

  /** A datagram refused before it got here (UDP_SOURCES), for the counts. */
  refuse(reason: DatagramDrop, sender: string): void {
    this.#stats.datagrams += 1;
    this.#stats.datagramsDropped[reason] += 1;
    this.#onDrop(reason, sender);
  }

  /** One datagram from `sender` (address:port). */
  push(datagram: Buffer, sender: string): void {
    if (datagram.length === 0 || datagram.length % TS_PACKET !== 0) return this.refuse('not-ts', sender);
    const headers: TsHeader[] = [];
    for (let at = 0; at < datagram.length; at += TS_PACKET) {
      const header = readHeader(datagram, at);
      if (!header) return this.refuse('not-ts', sender);
      headers.push(header);
    }
    this.#stats.datagrams += 1;
    const track = this.#track(sender);
    for (let i = 0; i < headers.length; i++) {
      this.#packet(track, datagram.subarray(i * TS_PACKET, (i + 1) * TS_PACKET), headers[i]!);
    }
    if (this.#out.length > 0) {
      const chunk = this.#out.length === 1 ? this.#out[0]! : Buffer.concat(this.#out);
      this.#out = [];
      this.#stats.packetsPassed += chunk.length / TS_PACKET;
      this.#sink?.(chunk);
    }
  }

  #track(sender: string): Track {
    const now = this.#now();
    let track = this.#tracks.get(sender);
    if (!track) {
      if (this.#tracks.size >= MAX_SENDERS) {
        const stalest = [...this.#tracks.values()]
          .filter((t) => t !== this.#active)
          .sort((a, b) => a.lastSeen - b.lastSeen)[0];
        if (stalest) this.#tracks.delete(stalest.sender);
      }
      track = { sender, lastSeen: now, pes: 'other-pid', lastVideoAt: 0 };
      this.#tracks.set(sender, track);
    }
    track.lastSeen = now;
    return track;
  }

  #drop(reason: PacketDrop, count: number, sender: string): void {
    this.#stats.packetsDropped[reason] += count;
    this.#onDrop(reason, sender);
  }

  /** Why a packet of this track that is neither accepted nor held is dropped. */
  #notAccepted(track: Track): PacketDrop {
    if (track === this.#active) return 'timeline';
    return this.#active ? 'other-sender' : 'before-keyframe';
  }

  #packet(track: Track, packet: Buffer, header: TsHeader): void {
    const { pid } = header;
    if (pid === PAT_PID || pid === track.pmtPid) {
      const valid =
        pid === PAT_PID ? this.#learnPat(track, packet, header) : this.#learnPmt(track, packet, header);
      if (!valid) return this.#drop('bad-psi', 1, track.sender);
      return this.#passOrHold(track, packet, header);
    }
    if (track.pmt && pid === track.pmt.videoPid) {
      if (header.start) return this.#pesStart(track, packet, header);
      return this.#pesContinues(track, packet, header);
    }
    if (track.pmt && pid === track.pmt.pcrPid && pid !== NULL_PID)
      return this.#passOrHold(track, packet, header);
    this.#drop('other-pid', 1, track.sender);
  }

  #learnPat(track: Track, packet: Buffer, header: TsHeader): boolean {
    const pmtPid = readPat(packet, header);
    if (pmtPid === undefined) return false;
    if (pmtPid !== track.pmtPid) track.pmt = undefined;
    track.pmtPid = pmtPid;
    track.pat = Buffer.from(packet);
    return true;
  }

  #learnPmt(track: Track, packet: Buffer, header: TsHeader): boolean {
    const pmt = readPmt(packet, header);
    if (!pmt) return false;
    track.pmt = pmt;
    track.pmtPacket = Buffer.from(packet);
    return true;
  }

  /** PSI and PCR packets: on with the accepted stream, into a stream being confirmed, else dropped. */
  #passOrHold(track: Track, packet: Buffer, header: TsHeader): void {
    if (track === this.#active) this.#emit(packet, header, false);
    else if (track.candidate) this.#hold(track, packet);
    else this.#drop(this.#notAccepted(track), 1, track.sender);
  }

  #pesStart(track: Track, packet: Buffer, header: TsHeader): void {
    const now = this.#now();
    const pes = readPesStart(packet, header);
    if (!pes) {
      track.pes = 'bad-pes';
      return this.#drop('bad-pes', 1, track.sender);
    }
    const { dts, pts } = pes;
    if (dts !== undefined && pts !== undefined) {
      const lead = timestampStep(dts, pts);
      if (lead < 0 || lead > MAX_PTS_LEAD) {
        track.pes = 'timeline';
        return this.#drop('timeline', 1, track.sender);
      }
    }
    if (track === this.#active && (dts === undefined || continues(track.timeline, dts, now))) {
      if (dts !== undefined) track.timeline = { dts, at: now };
      this.#discardCandidate(track);
      track.pes = 'pass';
      track.lastVideoAt = now;
      return this.#emit(packet, header, true, pes.dataOffset);
    }
    const candidate = track.candidate;
    if (
      candidate &&
      candidate.scanner.kind === 'keyframe' &&
      dts !== undefined &&
      continues(candidate.last, dts, now)
    ) {
      candidate.frames += 1;
      candidate.last = { dts, at: now };
      track.pes = 'hold';
      this.#hold(track, packet);
      if (track.candidate && candidate.frames >= CONFIRM_FRAMES) this.#accept(track);
      return;
    }
    this.#discardCandidate(track);
    // Perhaps the keyframe of a new stream: held until its next frames say so.
    if (dts !== undefined && track.pat && track.pmtPacket) {
      const scanner = new AccessUnitScanner();
      track.candidate = {
        held: [track.pat, track.pmtPacket],
        bytes: 2 * TS_PACKET,
        frames: 1,
        last: { dts, at: now },
        scanner,
      };
      track.pes = 'hold';
      this.#hold(track, packet);
      this.#scanned(track, scanner.feed(packet, pes.dataOffset, TS_PACKET));
      return;
    }
    track.pes = this.#notAccepted(track);
    this.#drop(track.pes, 1, track.sender);
  }

  #pesContinues(track: Track, packet: Buffer, header: TsHeader): void {
    if (track.pes === 'pass' && track === this.#active) {
      track.lastVideoAt = this.#now();
      return this.#emit(packet, header, false);
    }
    const candidate = track.candidate;
    if (track.pes === 'hold' && candidate) {
      this.#hold(track, packet);
      if (candidate.scanner.kind === 'undecided') {
        this.#scanned(track, candidate.scanner.feed(packet, header.payloadOffset, TS_PACKET));
      }
      return;
    }
    const reason = track.pes === 'pass' || track.pes === 'hold' ? this.#notAccepted(track) : track.pes;
    this.#drop(reason, 1, track.sender);
  }

  /**
   * The first frame of a new stream, read: not a keyframe, it goes. A keyframe from the accepted
   * sender after a pause is that camera's encoder starting over (our agent restarts its encoder behind
   * the same socket): accepted at once, as nothing else sends from the camera's address and port.
   */
  #scanned(track: Track, kind: AccessUnitKind): void {
    if (kind === 'other') this.#discardCandidate(track);
    else if (kind === 'keyframe' && track === this.#active) {
      if (this.#now() - track.lastVideoAt >= TAKEOVER_QUIET_MS) this.#accept(track);
    }
  }

  #hold(track: Track, packet: Buffer): void {
    const candidate = track.candidate!;
    candidate.held.push(Buffer.from(packet));
    candidate.bytes += TS_PACKET;
    if (candidate.bytes > MAX_HELD_BYTES) this.#discardCandidate(track);
  }

  #discardCandidate(track: Track): void {
    const candidate = track.candidate;
    if (!candidate) return;
    track.candidate = undefined;
    if (track.pes === 'hold') track.pes = this.#notAccepted(track);
    // PAT and PMT were copies of packets counted when they came.
    this.#drop(this.#notAccepted(track), candidate.held.length - 2, track.sender);
  }

  /** A new stream continued its timeline from a keyframe: it is the one passed on from now. */
  #accept(track: Track): void {
    const candidate = track.candidate!;
    const previous = this.#active;
    const now = this.#now();
    if (previous && previous !== track && now - previous.lastVideoAt < TAKEOVER_QUIET_MS) {
      // Two streams at once: the one accepted keeps the port (UDP_SOURCES picks the camera).
      return this.#discardCandidate(track);
    }
    track.candidate = undefined;
    track.timeline = candidate.last;
    track.pes = 'pass';
    track.lastVideoAt = now;
    if (previous && previous !== track) {
      previous.pes = 'other-sender';
      previous.timeline = undefined;
    }
    this.#active = track;
    this.#stats.timelines += 1;
    this.#onTimeline({
      sender: track.sender,
      change: !previous ? 'first' : previous === track ? 'restart' : 'sender',
    });
    if (this.#sink) {
      this.#gate.openNow();
      this.#out.push(...candidate.held);
    } else {
      this.#drop('before-keyframe', candidate.held.length - 2, track.sender);
    }
  }

  /** A packet of the accepted stream: to the sink, through its gate (KeyframeGate). */
  #emit(packet: Buffer, header: TsHeader, pesStart: boolean, dataOffset = header.payloadOffset): void {
    const active = this.#active!;
    const dropped = (count: number) => this.#drop('before-keyframe', count, active.sender);
    if (!this.#sink) return dropped(1);
    const video = header.pid === active.pmt?.videoPid;
    const psi = active.pat && active.pmtPacket ? ([active.pat, active.pmtPacket] as const) : undefined;
    this.#out.push(...this.#gate.pass({ packet, pesStart, video, dataOffset }, psi, dropped));
  }
}

/**
 * Whether a frame at `dts`, arriving `now`, continues a timeline: later than the last frame, and not
 * further ahead of it than the time that passed (and a tolerance). Late is fine: the network may
 * have held it, or a cut may have dropped frames in between.
 */
function continues(last: Timeline | undefined, dts: number, now: number): boolean {
  if (!last) return false;
  const step = timestampStep(last.dts, dts);
  return step > 0 && step / 90 <= now - last.at + AHEAD_TOLERANCE_MS;
}
