/** An independent HLS client: ffmpeg reading the live playlist over HTTP and decoding it. */
import { execFile } from 'node:child_process';
import { expect } from 'vitest';
import { probeVideoStream } from './ffprobe.js';

export interface DecodeResult {
  frames: number;
  /** Seconds of media decoded. */
  seconds: number;
  stderr: string;
}

/** Decodes `seconds` of the stream at `url` (ffmpeg's own HLS demuxer, live playlist reloads). */
export function decodeHls(url: string, seconds: number, timeoutMs = 30_000): Promise<DecodeResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        '-i',
        url,
        '-t',
        String(seconds),
        '-f',
        'null',
        '-progress',
        'pipe:1',
        '-',
      ],
      { timeout: timeoutMs, maxBuffer: 10 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`ffmpeg could not decode ${url}: ${error.message}\n${stderr}`));
          return;
        }
        // -progress prints key=value blocks; the last block holds the totals.
        const last = (key: string) => [...stdout.matchAll(new RegExp(`^${key}=(\\S+)$`, 'gm'))].at(-1)?.[1];
        resolve({
          frames: Number(last('frame') ?? 0),
          seconds: Number(last('out_time_us') ?? last('out_time_ms') ?? 0) / 1e6,
          stderr,
        });
      },
    );
  });
}

/** ffprobe's view of the stream's first video stream. */
export function probeHls(url: string): Promise<{ codec_name: string; width: number; height: number }> {
  return probeVideoStream(url, 'codec_name,width,height', { timeoutMs: 20_000 });
}

/**
 * In LL-HLS, until the camera's second keyframe every part is a segment of its own (the quick
 * start), and those begin between keyframes. ffmpeg starts a live playlist three segments from its
 * end, so in the first second it would start between keyframes and decode nothing until the next
 * one (as any player that joins mid-GOP): the frame counts below are for a player that starts on a
 * keyframe, so wait until ffmpeg would start on one (about 3 s after a start; plain HLS at once).
 */
async function untilPastQuickStart(url: string): Promise<void> {
  const until = Date.now() + 8_000;
  while (Date.now() < until) {
    const text = await fetch(url)
      .then((response) => response.text())
      .catch(() => '');
    const durations = [...text.matchAll(/^#EXTINF:([\d.]+)/gm)].map((m) => Number(m[1]));
    // ffmpeg's live start: the third segment from the end must be a GOP.
    if (!text.includes('#EXT-X-PART-INF') || (durations.at(-3) ?? 0) > 0.5) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Both independent clients on `url`: ffprobe reads 640x480 H.264, and ffmpeg decodes `seconds` of
 * it, at least `minSeconds` of media and `minFrames` frames.
 */
export async function expectPlayableByFfmpeg(
  url: string,
  { seconds, minSeconds, minFrames }: { seconds: number; minSeconds: number; minFrames: number },
): Promise<void> {
  await untilPastQuickStart(url);
  expect(await probeHls(url)).toEqual({ codec_name: 'h264', width: 640, height: 480 });
  const decoded = await decodeHls(url, seconds);
  expect(decoded.seconds).toBeGreaterThanOrEqual(minSeconds);
  expect(decoded.frames).toBeGreaterThanOrEqual(minFrames);
}
