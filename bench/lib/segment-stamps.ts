/**
 * The capture time of a segment's first frame, read off the picture: ffmpeg decodes the first frame
 * of a kept copy to grey pixels and the test source's stamp (packages/protocol) is read from them.
 * Runs after the measured window, so the decoding costs the system under test nothing.
 */
import { execFile } from 'node:child_process';
import { readStamp, stampToEpochMs } from '@camstream/protocol';
import type { SegmentRecord } from './playlist-watcher.js';

function firstFrameLuma(path: string, width: number, height: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    execFile(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        path,
        '-frames:v',
        '1',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'gray',
        'pipe:1',
      ],
      { encoding: 'buffer', maxBuffer: 4 * width * height, timeout: 10_000 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    ).stdin?.end();
  }).then((luma) => {
    if (luma.length < width * height) throw new Error(`short frame from ${path}`);
    return luma;
  });
}

export interface StampedSegment extends SegmentRecord {
  /** Epoch ms the segment's first frame was captured (from its stamp). */
  capturedAt?: number;
}

/** Adds `capturedAt` to each kept segment whose first frame carries a readable stamp. */
export async function readSegmentStamps(
  segments: readonly SegmentRecord[],
  width: number,
  height: number,
): Promise<StampedSegment[]> {
  const stamped: StampedSegment[] = [];
  for (const segment of segments) {
    let capturedAt: number | undefined;
    if (segment.copy !== undefined) {
      try {
        const luma = await firstFrameLuma(segment.copy, width, height);
        const value = readStamp((x, y) => luma[y * width + x] ?? 0, width, height);
        if (value !== undefined) capturedAt = stampToEpochMs(value, segment.listedAt);
      } catch {
        // an unreadable copy: this segment gets no capture time
      }
    }
    stamped.push({ ...segment, ...(capturedAt !== undefined && { capturedAt }) });
  }
  return stamped;
}
