/**
 * A UDP relay between the camera and the service that notes when each keyframe arrives: every
 * datagram is forwarded at once, unchanged; a TS packet that starts a PES with the adaptation
 * field's random_access_indicator set (ffmpeg's mpegts muxer sets it on keyframes, ours and plain
 * ffmpeg alike) marks a keyframe. The reference for "a segment closes": its closing keyframe
 * reaching the service.
 */
import { createSocket } from 'node:dgram';
import type { Cleanup } from '../../test/helpers/cleanup.js';
import { wallMs } from './disk-watch.js';

const TS_PACKET = 188;

/** The datagram holds the start of a keyframe's PES (random_access_indicator + payload_unit_start). */
export function startsKeyframe(datagram: Buffer): boolean {
  for (let at = 0; at + TS_PACKET <= datagram.length; at += TS_PACKET) {
    if (datagram[at] !== 0x47 || !(datagram[at + 1]! & 0x40)) continue;
    const control = (datagram[at + 3]! >> 4) & 0x3;
    if (!(control & 0x2) || datagram[at + 4]! === 0) continue;
    if (!(datagram[at + 5]! & 0x40)) continue;
    const payload = at + 5 + datagram[at + 4]!;
    if (payload + 3 <= at + TS_PACKET && datagram.readUIntBE(payload, 3) === 1) return true;
  }
  return false;
}

export interface KeyframeTap {
  /** Where the camera sends: udp://127.0.0.1:<port>. */
  readonly url: string;
  /** Wall ms at which each keyframe's first datagram arrived. */
  readonly keyframes: number[];
}

export async function startKeyframeTap(
  cleanup: Pick<Cleanup, 'add'>,
  targetPort: number,
): Promise<KeyframeTap> {
  const input = createSocket('udp4');
  const output = createSocket('udp4');
  const keyframes: number[] = [];
  input.on('message', (datagram) => {
    output.send(datagram, targetPort, '127.0.0.1');
    if (startsKeyframe(datagram)) keyframes.push(wallMs());
  });
  output.on('error', () => {}); // nobody listening for a moment: UDP drops it, as it would
  await new Promise<void>((resolve) => input.bind(0, '127.0.0.1', resolve));
  cleanup.add(() =>
    Promise.all([
      new Promise<void>((resolve) => input.close(() => resolve())),
      new Promise<void>((resolve) => output.close(() => resolve())),
    ]),
  );
  return { url: `udp://127.0.0.1:${input.address().port}`, keyframes };
}
