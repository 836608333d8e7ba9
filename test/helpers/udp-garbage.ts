/**
 * Garbage for the service's UDP port, from fast-check (a fixed seed: the same datagrams every run):
 * random bytes of any size a datagram may have, packets that look like MPEG-TS (sync byte 0x47,
 * random PIDs), and well-formed TS headers on the camera's video PID with payloads that are not.
 * A sender paces them onto the port, alone or between the camera's own datagrams.
 */
import { createSocket } from 'node:dgram';
import fc from 'fast-check';
import type { Cleanup } from './cleanup.js';

/** The largest UDP payload over IPv4. */
export const MAX_DATAGRAM = 65_507;
const TS_PACKET = 188;
/** ffmpeg's mpegts muxer (the agent's encoders) puts the first stream on PID 0x100, its PMT on 0x1000. */
export const VIDEO_PID = 0x100;
export const PMT_PID = 0x1000;

/** Bytes from a small PRNG (xorshift32): fast-check picks the seed, so a datagram of 64 KiB is cheap. */
function noise(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

function tsHeader(
  pid: number,
  { start, counter, adaptation }: { start: boolean; counter: number; adaptation: number },
) {
  return Buffer.from([
    0x47,
    (start ? 0x40 : 0) | ((pid >> 8) & 0x1f),
    pid & 0xff,
    ((adaptation & 0x3) << 4) | (counter & 0xf),
  ]);
}

const seed = fc.integer({ min: 1, max: 0x7fffffff });

/** Any bytes, any size from 0 to 65507 (mostly small, as most datagrams are). */
export const randomDatagram: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 1500 }) },
      { weight: 1, arbitrary: fc.integer({ min: 1500, max: MAX_DATAGRAM }) },
      { weight: 1, arbitrary: fc.constantFrom(0, 1, 187, 188, 189, 1316, MAX_DATAGRAM) },
    ),
    seed,
  )
  .map(([size, s]) => noise(size, s));

/** Packets that look like MPEG-TS to a demuxer that looks for 0x47 every 188 bytes: random PIDs. */
export const tsLookingDatagram: fc.Arbitrary<Buffer> = fc
  .array(
    fc
      .record({
        pid: fc.oneof(
          fc.integer({ min: 0, max: 0x1fff }),
          fc.constantFrom(0, 0x11, PMT_PID, VIDEO_PID, 0x1fff),
        ),
        start: fc.boolean(),
        counter: fc.nat(15),
        adaptation: fc.nat(3),
        seed,
      })
      .map(({ seed: s, ...header }) =>
        Buffer.concat([tsHeader(header.pid, header), noise(TS_PACKET - 4, s)]),
      ),
    { minLength: 1, maxLength: 7 },
  )
  .map((packets) => Buffer.concat(packets));

/** A 33-bit PES timestamp (PTS or DTS) with its 4-bit prefix and marker bits (ISO/IEC 13818-1 §2.4.3.7). */
function timestamp(prefix: number, value: bigint): number[] {
  const v = value & 0x1_ffff_ffffn;
  return [
    (prefix << 4) | Number((v >> 29n) & 0x0en) | 1,
    Number((v >> 22n) & 0xffn),
    Number((v >> 14n) & 0xfen) | 1,
    Number((v >> 7n) & 0xffn),
    Number((v << 1n) & 0xfen) | 1,
  ];
}

/**
 * One TS packet on the video PID that starts a PES with these timestamps (90 kHz) and a scrap of
 * H.264 (an access unit delimiter and a slice header), the rest of the packet stuffing.
 */
export function videoPes(pts: bigint, dts: bigint, counter = 0): Buffer {
  const header = [0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 10, ...timestamp(3, pts), ...timestamp(1, dts)];
  const h264 = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41, 0x9a, 0x00, 0x10];
  const payload = Buffer.alloc(TS_PACKET - 4, 0xff);
  Buffer.from([...header, ...h264]).copy(payload);
  return Buffer.concat([tsHeader(VIDEO_PID, { start: true, counter, adaptation: 1 }), payload]);
}

/** Well-formed TS headers on the video PID, payloads of garbage: some continue the camera's PES. */
export const videoPidDatagram: fc.Arbitrary<Buffer> = fc
  .array(
    fc
      .record({ start: fc.boolean(), counter: fc.nat(15), seed })
      .map(({ start, counter, seed: s }) =>
        Buffer.concat([tsHeader(VIDEO_PID, { start, counter, adaptation: 1 }), noise(TS_PACKET - 4, s)]),
      ),
    { minLength: 1, maxLength: 7 },
  )
  .map((packets) => Buffer.concat(packets));

/**
 * PES packets of their own on the video PID, timestamps anywhere in the 33-bit range (PTS at most
 * 10 s after DTS: hours after its DTS used to stop ffmpeg's mp4 muxer, see udp.test.ts).
 */
export const videoPesDatagram: fc.Arbitrary<Buffer> = fc
  .array(
    fc
      .record({
        dts: fc.bigInt({ min: 0n, max: 0x1_ffff_ffffn }),
        lead: fc.bigInt({ min: 0n, max: 900_000n }),
        counter: fc.nat(15),
      })
      .map(({ dts, lead, counter }) => videoPes(dts + lead, dts, counter)),
    { minLength: 1, maxLength: 7 },
  )
  .map((packets) => Buffer.concat(packets));

export type GarbageKind = 'random' | 'ts-looking' | 'video-pid' | 'video-pes';

/** Random bytes, TS-looking packets, garbage payloads on the video PID. */
export const anyGarbage: fc.Arbitrary<{ kind: GarbageKind; datagram: Buffer }> = fc.oneof(
  randomDatagram.map((datagram) => ({ kind: 'random' as const, datagram })),
  tsLookingDatagram.map((datagram) => ({ kind: 'ts-looking' as const, datagram })),
  videoPidDatagram.map((datagram) => ({ kind: 'video-pid' as const, datagram })),
);

/** The same, and PES packets with timestamps of their own. */
export const anyGarbageWithPes: fc.Arbitrary<{ kind: GarbageKind; datagram: Buffer }> = fc.oneof(
  { weight: 3, arbitrary: anyGarbage },
  { weight: 1, arbitrary: videoPesDatagram.map((datagram) => ({ kind: 'video-pes' as const, datagram })) },
);

export interface GarbageSender {
  /** Datagrams and bytes sent so far, per kind. */
  readonly sent: Record<GarbageKind, { datagrams: number; bytes: number }>;
  /** Resolves when the sender has stopped (after `stop()`, or when it ran out of datagrams). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Sends `datagrams` to 127.0.0.1:`port`, one every `intervalMs`, over and over until stopped (or
 * once through, with `once`). Nobody listening is fine: UDP does not care.
 */
export function sendGarbage(
  cleanup: Pick<Cleanup, 'add'>,
  port: number,
  datagrams: readonly { kind: GarbageKind; datagram: Buffer }[],
  { intervalMs = 5, once = false, from }: { intervalMs?: number; once?: boolean; from?: string } = {},
): GarbageSender {
  const socket = createSocket('udp4');
  socket.on('error', () => {}); // ICMP port unreachable while no segmenter listens
  // Another sender on this machine: any 127.0.0.0/8 address is loopback on Linux.
  if (from !== undefined) socket.bind(0, from);
  const sent: GarbageSender['sent'] = {
    random: { datagrams: 0, bytes: 0 },
    'ts-looking': { datagrams: 0, bytes: 0 },
    'video-pid': { datagrams: 0, bytes: 0 },
    'video-pes': { datagrams: 0, bytes: 0 },
  };
  let stopped = false;
  let index = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const timer = setInterval(() => {
    if (stopped) return;
    if (once && index >= datagrams.length) {
      void stop();
      return;
    }
    const { kind, datagram } = datagrams[index % datagrams.length]!;
    index += 1;
    socket.send(datagram, port, '127.0.0.1');
    sent[kind].datagrams += 1;
    sent[kind].bytes += datagram.length;
  }, intervalMs);
  const stop = async () => {
    if (stopped) return done;
    stopped = true;
    clearInterval(timer);
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    finish();
    return done;
  };
  cleanup.add(stop);
  return { sent, done, stop };
}
