/**
 * RTP payloads for one H.264 access unit (RFC 6184, packetization-mode 1): a NAL unit that fits is
 * sent alone (5.6), a larger one in FU-A fragments (5.8), and parameter sets go together in one
 * STAP-A (5.7.1) ahead of a keyframe. The last packet of the frame has the marker bit (5.1).
 * Payloads are made once per frame and shared by every viewer: each viewer wraps them in its own
 * RTP packet (viewer.ts), so no packet object is ever shared between senders.
 */
import { NAL, nalType } from './avc.js';

export interface RtpPayload {
  readonly payload: Buffer;
  /** The last packet of the access unit (RTP marker bit). */
  readonly marker: boolean;
}

/** A payload size that fits a 1500-byte path with IP, UDP, RTP, SRTP and header extensions. */
export const DEFAULT_MAX_PAYLOAD = 1200;

const STAP_A = 24;
const FU_A = 28;

/** RFC 6184 5.7.1: F is the OR of the units' F bits, NRI their highest NRI. */
export function stapA(nals: readonly Buffer[]): Buffer {
  let f = 0;
  let nri = 0;
  let size = 1;
  for (const nal of nals) {
    f |= nal[0]! & 0x80;
    nri = Math.max(nri, nal[0]! & 0x60);
    size += 2 + nal.length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = f | nri | STAP_A;
  let at = 1;
  for (const nal of nals) {
    out.writeUInt16BE(nal.length, at);
    nal.copy(out, at + 2);
    at += 2 + nal.length;
  }
  return out;
}

/** RFC 6184 5.8: FU indicator (F, NRI, type 28), FU header (S, E, R=0, the unit's type), a slice. */
export function fuA(nal: Buffer, maxPayload: number): Buffer[] {
  const indicator = (nal[0]! & 0xe0) | FU_A;
  const type = nal[0]! & 0x1f;
  const chunk = maxPayload - 2;
  const out: Buffer[] = [];
  for (let at = 1; at < nal.length; at += chunk) {
    const end = Math.min(at + chunk, nal.length);
    const header = (at === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
    const payload = Buffer.allocUnsafe(2 + end - at);
    payload[0] = indicator;
    payload[1] = header;
    nal.copy(payload, 2, at, end);
    out.push(payload);
  }
  return out;
}

export interface PacketizeOptions {
  /** Sent ahead of the frame in one STAP-A (each alone if they do not fit): SPS and PPS. */
  readonly parameterSets?: readonly Buffer[];
  readonly maxPayload?: number;
}

/**
 * The payloads of one access unit, in order. Access unit delimiters and filler data are left out
 * (RFC 6184 allows it; they carry nothing a decoder needs). Empty for a frame without NAL units.
 */
export function packetizeAccessUnit(
  nals: readonly Buffer[],
  { parameterSets = [], maxPayload = DEFAULT_MAX_PAYLOAD }: PacketizeOptions = {},
): RtpPayload[] {
  if (maxPayload < 3) throw new RangeError('maxPayload must leave room for a fragment');
  const payloads: Buffer[] = [];
  if (parameterSets.length > 0) {
    const aggregate = 1 + parameterSets.reduce((sum, nal) => sum + 2 + nal.length, 0);
    if (parameterSets.length > 1 && aggregate <= maxPayload) payloads.push(stapA(parameterSets));
    else for (const nal of parameterSets) pushUnit(payloads, nal, maxPayload);
  }
  for (const nal of nals) {
    const type = nalType(nal);
    if (type === NAL.aud || type === NAL.filler) continue;
    pushUnit(payloads, nal, maxPayload);
  }
  const last = payloads.length - 1;
  return payloads.map((payload, i) => ({ payload, marker: i === last }));
}

function pushUnit(payloads: Buffer[], nal: Buffer, maxPayload: number): void {
  if (nal.length <= maxPayload) payloads.push(nal);
  else payloads.push(...fuA(nal, maxPayload));
}

/**
 * A keyframe's parameter sets and the rest of its units: the frame's own SPS and PPS when it carries
 * them (x264 and most cameras repeat them before each IDR: the newest), else the init's (avcC).
 * Sent first, together, they let a viewer that joins at this keyframe decode it.
 */
export function keyframeUnits(
  nals: readonly Buffer[],
  config: { readonly sps: readonly Buffer[]; readonly pps: readonly Buffer[] },
): { parameterSets: Buffer[]; units: Buffer[] } {
  const sps = nals.filter((nal) => nalType(nal) === NAL.sps);
  const pps = nals.filter((nal) => nalType(nal) === NAL.pps);
  const units = nals.filter((nal) => nalType(nal) !== NAL.sps && nalType(nal) !== NAL.pps);
  return {
    parameterSets: [...(sps.length > 0 ? sps : config.sps), ...(pps.length > 0 ? pps : config.pps)],
    units,
  };
}
