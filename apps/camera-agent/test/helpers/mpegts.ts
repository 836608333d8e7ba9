/** Checks that bytes really are MPEG-TS carrying H.264, with the real ffprobe. */
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { probeVideoStream } from '../../../../test/helpers/ffprobe.js';

/**
 * Whole TS packets (each starting with the 0x47 sync byte), at most 7 (1316 bytes) per datagram,
 * most of them full: a frame's last datagram is shorter because encoders flush every frame.
 */
export function expectMpegTsDatagrams(datagrams: readonly Buffer[]): void {
  expect(datagrams.length).toBeGreaterThan(0);
  for (const datagram of datagrams) {
    expect(datagram.length % 188).toBe(0);
    expect(datagram.length).toBeLessThanOrEqual(1316);
    for (let offset = 0; offset < datagram.length; offset += 188) expect(datagram[offset]).toBe(0x47);
  }
  const full = datagrams.filter((d) => d.length === 1316).length;
  expect(full / datagrams.length).toBeGreaterThan(0.6);
}

export interface ProbedStream {
  codec_name: string;
  width: number;
  height: number;
  profile?: string;
  has_b_frames?: number;
}

/** ffprobe on a captured chunk (fed on its stdin): the video stream's codec and size. */
export function probeVideo(datagrams: readonly Buffer[]): Promise<ProbedStream> {
  return probeVideoStream<ProbedStream>(
    Buffer.concat(datagrams),
    'codec_name,width,height,profile,has_b_frames',
  );
}

/**
 * True while a live process (not a zombie) is left in process group `pgid`: an encoder leads its own
 * group, so this covers anything it started. Reads /proc because kill(-pgid, 0) also counts zombies,
 * which an init that does not reap (as in some containers) would leave around.
 */
export function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone while we looked
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its closing parenthesis.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}
