/**
 * A camera's MPEG-TS, made up in memory for the ingest's unit tests: PAT and PMT as ffmpeg's mpegts
 * muxer writes them (PMT on 0x1000, H.264 on 0x100, every 0.1 s), one PES per frame (an access unit delimiter, SPS,
 * PPS and an IDR slice for a keyframe, a non-IDR slice otherwise, and enough filler for several
 * packets), continuity counters per PID, 7 packets to a datagram.
 */
import { crc32Mpeg } from '../../src/ingest/mpegts.js';

export const PMT_PID = 0x1000;
export const VIDEO_PID = 0x100;
const TS = 188;

function packet(pid: number, start: boolean, counter: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(TS, 0xff);
  out[0] = 0x47;
  out[1] = (start ? 0x40 : 0) | (pid >> 8);
  out[2] = pid & 0xff;
  const stuffing = TS - 4 - payload.length;
  if (stuffing > 0) {
    // An adaptation field of stuffing fills the packet (its length byte counts itself out).
    out[3] = 0x30 | (counter & 0xf);
    out[4] = stuffing - 1;
    if (stuffing > 1) out[5] = 0x00;
    payload.copy(out, 4 + stuffing);
  } else {
    out[3] = 0x10 | (counter & 0xf);
    payload.copy(out, 4);
  }
  return out;
}

function psi(pid: number, tableId: number, extension: number, body: number[]): Buffer {
  const length = 5 + body.length + 4;
  const section = Buffer.from([
    tableId,
    0xb0 | (length >> 8),
    length & 0xff,
    extension >> 8,
    extension & 0xff,
    0xc1,
    0,
    0,
    ...body,
    0,
    0,
    0,
    0,
  ]);
  section.writeUInt32BE(crc32Mpeg(section, 0, section.length - 4), section.length - 4);
  const payload = Buffer.concat([Buffer.from([0]), section]); // pointer_field 0
  const out = Buffer.alloc(TS, 0xff);
  out[0] = 0x47;
  out[1] = 0x40 | (pid >> 8);
  out[2] = pid & 0xff;
  out[3] = 0x10;
  payload.copy(out, 4);
  return out;
}

export const PAT = psi(0, 0x00, 1, [0, 1, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]);
export const PMT = psi(PMT_PID, 0x02, 1, [
  0xe0 | (VIDEO_PID >> 8),
  VIDEO_PID & 0xff,
  0xf0,
  0,
  0x1b,
  0xe0 | (VIDEO_PID >> 8),
  VIDEO_PID & 0xff,
  0xf0,
  0,
]);

function timestamp(prefix: number, value: number): number[] {
  const hi = Math.floor(value / 2 ** 30) & 0x7;
  const mid = Math.floor(value / 2 ** 15) & 0x7fff;
  const lo = value & 0x7fff;
  return [(prefix << 4) | (hi << 1) | 1, mid >> 7, ((mid & 0x7f) << 1) | 1, lo >> 7, ((lo & 0x7f) << 1) | 1];
}

/** A PES header with PTS and DTS (90 kHz). */
export function pesHeader(pts: number, dts: number): Buffer {
  return Buffer.from([0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 10, ...timestamp(3, pts), ...timestamp(1, dts)]);
}

const AUD = [0, 0, 0, 1, 0x09, 0xf0];
const SPS = [0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1e, 0xac];
const PPS = [0, 0, 0, 1, 0x68, 0xee, 0x3c, 0x80];
const IDR = [0, 0, 1, 0x65, 0x88, 0x84];
const SLICE = [0, 0, 1, 0x41, 0x9a, 0x02];

/** The packets of one frame's PES (3 packets or more, the first with the PES header). */
export function framePackets(dts: number, key: boolean, counter: () => number, pts = dts): Buffer[] {
  const es = Buffer.concat([
    Buffer.from([...AUD, ...(key ? [...SPS, ...PPS, ...IDR] : SLICE)]),
    Buffer.alloc(key ? 700 : 400, 0x55),
  ]);
  const pes = Buffer.concat([pesHeader(pts, dts), es]);
  const packets: Buffer[] = [];
  for (let at = 0; at < pes.length; at += TS - 4) {
    packets.push(packet(VIDEO_PID, at === 0, counter(), pes.subarray(at, at + TS - 4)));
  }
  return packets;
}

export interface CameraOptions {
  /** The first frame's DTS (90 kHz). */
  readonly dts?: number;
  readonly fps?: number;
  /** Frames per GOP. */
  readonly gop?: number;
}

/** A camera: `frame()` gives the next frame's datagrams, PAT and PMT before each keyframe and every third frame. */
export class FakeCamera {
  readonly #fps: number;
  readonly #gop: number;
  #dts: number;
  #index = 0;
  readonly #counters = new Map<number, number>();

  constructor({ dts = 900_000, fps = 30, gop = 30 }: CameraOptions = {}) {
    this.#dts = dts;
    this.#fps = fps;
    this.#gop = gop;
  }

  get frameMs(): number {
    return 1000 / this.#fps;
  }

  #counter(pid: number): () => number {
    return () => {
      const next = ((this.#counters.get(pid) ?? -1) + 1) & 0xf;
      this.#counters.set(pid, next);
      return next;
    };
  }

  /** The next frame as datagrams of up to 7 packets; `key` is whether it is a keyframe. */
  frame(): { datagrams: Buffer[]; key: boolean; dts: number } {
    const key = this.#index % this.#gop === 0;
    const dts = this.#dts;
    // ffmpeg's muxer repeats PAT and PMT every 0.1 s (pat_period), and before each keyframe.
    const psi = key || this.#index % 3 === 0 ? [PAT, PMT] : [];
    const packets = [...psi, ...framePackets(dts, key, this.#counter(VIDEO_PID))];
    this.#index += 1;
    this.#dts += 90_000 / this.#fps;
    const datagrams: Buffer[] = [];
    for (let i = 0; i < packets.length; i += 7) datagrams.push(Buffer.concat(packets.slice(i, i + 7)));
    return { datagrams, key, dts };
  }
}

/** The PID of each 188-byte packet in `chunks`. */
export const pidsOf = (chunks: Buffer[]): number[] =>
  chunks.flatMap((chunk) => {
    const pids: number[] = [];
    for (let at = 0; at < chunk.length; at += TS) pids.push(((chunk[at + 1]! & 0x1f) << 8) | chunk[at + 2]!);
    return pids;
  });
