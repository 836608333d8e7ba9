/** An independent HLS client: ffmpeg reading the live playlist over HTTP and decoding it. */
import { execFile } from 'node:child_process';

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
