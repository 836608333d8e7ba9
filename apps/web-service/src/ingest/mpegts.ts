/**
 * Just enough MPEG-TS (ISO/IEC 13818-1) and H.264 (ISO/IEC 14496-10 Annex B) to tell the camera's
 * stream from garbage: packet headers, PAT and PMT sections with their CRC, PES timestamps, and the
 * NAL unit types at the start of an access unit. Pure functions over Buffers; no allocation per packet
 * beyond what the caller keeps.
 */

export const TS_PACKET = 188;
export const SYNC_BYTE = 0x47;
export const PAT_PID = 0;
/** Stuffing; a PMT's PCR_PID says "no PCR" with it. */
export const NULL_PID = 0x1fff;
/** H.264 in a PMT's stream_type. */
export const STREAM_TYPE_H264 = 0x1b;
/** 2^33: PTS and DTS wrap around here (90 kHz, ≈ 26.5 h). */
export const TIMESTAMP_WRAP = 2 ** 33;

export interface TsHeader {
  readonly pid: number;
  /** payload_unit_start_indicator: a PES or a PSI section starts in this packet. */
  readonly start: boolean;
  /** Where the payload begins (TS_PACKET: none). */
  readonly payloadOffset: number;
}

/** The header of the packet at `offset`, or undefined if it is not a plausible TS packet. */
export function readHeader(data: Buffer, offset: number): TsHeader | undefined {
  if (data[offset] !== SYNC_BYTE) return undefined;
  const b1 = data[offset + 1]!;
  const b3 = data[offset + 3]!;
  if (b1 & 0x80) return undefined; // transport_error_indicator: the sender says it is damaged
  const control = (b3 >> 4) & 0x3;
  if (control === 0) return undefined; // reserved
  let payloadOffset = 4;
  if (control & 0x2) {
    const adaptationLength = data[offset + 4]!;
    payloadOffset = 5 + adaptationLength;
    if (payloadOffset > TS_PACKET) return undefined;
  }
  if (!(control & 0x1)) payloadOffset = TS_PACKET;
  return { pid: ((b1 & 0x1f) << 8) | data[offset + 2]!, start: (b1 & 0x40) !== 0, payloadOffset };
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    table[i] = crc >>> 0;
  }
  return table;
})();

/** CRC-32/MPEG-2 of `data[start, end)`; over a whole section including its CRC it is 0. */
export function crc32Mpeg(data: Buffer, start: number, end: number): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
  return crc >>> 0;
}

/**
 * The PSI section that starts in this packet (one with `start` set), checked: its table id, its
 * length within the packet (a PAT or a single-program PMT always fits), and its CRC. Returns where
 * the section's body begins and ends (before the CRC), or undefined.
 */
function section(
  packet: Buffer,
  header: TsHeader,
  tableId: number,
): { body: number; end: number } | undefined {
  if (!header.start || header.payloadOffset >= TS_PACKET) return undefined;
  const at = header.payloadOffset + 1 + packet[header.payloadOffset]!; // pointer_field
  if (at + 8 > TS_PACKET || packet[at] !== tableId) return undefined;
  if (!(packet[at + 1]! & 0x80)) return undefined; // section_syntax_indicator
  const length = ((packet[at + 1]! & 0x0f) << 8) | packet[at + 2]!;
  const end = at + 3 + length;
  if (length < 9 || end > TS_PACKET) return undefined;
  if (crc32Mpeg(packet, at, end) !== 0) return undefined;
  return { body: at + 8, end: end - 4 };
}

/** The PMT PID of the first program in a PAT packet; undefined if the packet is not a valid PAT. */
export function readPat(packet: Buffer, header: TsHeader): number | undefined {
  const s = section(packet, header, 0x00);
  if (!s) return undefined;
  for (let i = s.body; i + 4 <= s.end; i += 4) {
    const program = packet.readUInt16BE(i);
    if (program !== 0) return packet.readUInt16BE(i + 2) & 0x1fff; // program 0 is the network PID
  }
  return undefined;
}

export interface Pmt {
  /** The first H.264 elementary stream. */
  readonly videoPid: number;
  readonly pcrPid: number;
}

/** The H.264 stream of a PMT packet; undefined if the packet is not a valid PMT or has none. */
export function readPmt(packet: Buffer, header: TsHeader): Pmt | undefined {
  const s = section(packet, header, 0x02);
  if (!s) return undefined;
  const pcrPid = packet.readUInt16BE(s.body) & 0x1fff;
  let i = s.body + 4 + (packet.readUInt16BE(s.body + 2) & 0x0fff);
  while (i + 5 <= s.end) {
    const streamType = packet[i]!;
    const pid = packet.readUInt16BE(i + 1) & 0x1fff;
    if (streamType === STREAM_TYPE_H264) return { videoPid: pid, pcrPid };
    i += 5 + (packet.readUInt16BE(i + 3) & 0x0fff);
  }
  return undefined;
}

/** One 33-bit timestamp with its 4-bit prefix and three marker bits; undefined if they are wrong. */
function readTimestamp(data: Buffer, at: number, prefix: number): number | undefined {
  const [b0, b1, b2, b3, b4] = [data[at]!, data[at + 1]!, data[at + 2]!, data[at + 3]!, data[at + 4]!];
  if (b0 >> 4 !== prefix || !(b0 & 1) || !(b2 & 1) || !(b4 & 1)) return undefined;
  return ((b0 >> 1) & 0x07) * 2 ** 30 + ((b1 << 7) | (b2 >> 1)) * 2 ** 15 + ((b3 << 7) | (b4 >> 1));
}

export interface PesStart {
  /** Decoding time (the PTS when there is no DTS), 90 kHz; undefined without timestamps. */
  readonly dts: number | undefined;
  readonly pts: number | undefined;
  /** Where the elementary stream's bytes begin in the packet. */
  readonly dataOffset: number;
}

/**
 * The header of a video PES starting in this packet: start code, a video stream id, the marker bits,
 * and the timestamps. Undefined if any of it is wrong (garbage payload on the video PID).
 */
export function readPesStart(packet: Buffer, header: TsHeader): PesStart | undefined {
  const p = header.payloadOffset;
  if (!header.start || p + 9 > TS_PACKET) return undefined;
  if (packet[p] !== 0 || packet[p + 1] !== 0 || packet[p + 2] !== 1) return undefined;
  if ((packet[p + 3]! & 0xf0) !== 0xe0) return undefined; // video stream ids 0xE0-0xEF
  if ((packet[p + 6]! & 0xc0) !== 0x80) return undefined;
  const flags = packet[p + 7]! >> 6;
  const dataOffset = p + 9 + packet[p + 8]!;
  if (flags === 1 || dataOffset > TS_PACKET) return undefined;
  if (flags === 0) return { dts: undefined, pts: undefined, dataOffset };
  if (p + 9 + (flags === 3 ? 10 : 5) > dataOffset) return undefined;
  const pts = readTimestamp(packet, p + 9, flags === 3 ? 3 : 2);
  const dts = flags === 3 ? readTimestamp(packet, p + 14, 1) : pts;
  if (pts === undefined || dts === undefined) return undefined;
  return { dts, pts, dataOffset };
}

/** How far `to` is after `from`, modulo the 33-bit wrap: negative if it is before. */
export function timestampStep(from: number, to: number): number {
  const step = (((to - from) % TIMESTAMP_WRAP) + TIMESTAMP_WRAP) % TIMESTAMP_WRAP;
  return step >= TIMESTAMP_WRAP / 2 ? step - TIMESTAMP_WRAP : step;
}

export type AccessUnitKind = 'keyframe' | 'other' | 'undecided';

/**
 * Reads the NAL unit types at the start of an access unit, across packets, until its first slice:
 * a keyframe is an IDR slice after a sequence and a picture parameter set (what a decoder, and
 * ffmpeg's one-packet probe, need to start). Start codes split between packets are found too.
 */
export class AccessUnitScanner {
  /** Bounds the scan: an access unit whose first slice is further in than this is not a keyframe. */
  static readonly MAX_SCAN = 64 * 1024;
  #zeros = 0;
  #afterStartCode = false;
  #sps = false;
  #pps = false;
  #scanned = 0;
  #kind: AccessUnitKind = 'undecided';

  get kind(): AccessUnitKind {
    return this.#kind;
  }

  feed(data: Buffer, start: number, end: number): AccessUnitKind {
    for (let i = start; i < end && this.#kind === 'undecided'; i++) {
      const byte = data[i]!;
      if (this.#afterStartCode) {
        this.#afterStartCode = false;
        const type = byte & 0x1f;
        if (type === 7) this.#sps = true;
        else if (type === 8) this.#pps = true;
        else if (type >= 1 && type <= 5)
          this.#kind = type === 5 && this.#sps && this.#pps ? 'keyframe' : 'other';
      }
      if (byte === 1 && this.#zeros >= 2) this.#afterStartCode = true;
      this.#zeros = byte === 0 ? this.#zeros + 1 : 0;
    }
    this.#scanned += end - start;
    if (this.#kind === 'undecided' && this.#scanned > AccessUnitScanner.MAX_SCAN) this.#kind = 'other';
    return this.#kind;
  }
}
