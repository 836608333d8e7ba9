/** An independent HLS client: ffmpeg's own HLS demuxer reading the live playlist over HTTP. */
import { execFile } from 'node:child_process';

export interface DecodeResult {
  readonly frames: number;
  /** Seconds of media decoded. */
  readonly seconds: number;
}

export function decodeHls(url: string, seconds: number, timeoutMs = 30_000): Promise<DecodeResult> {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', url, '-t', String(seconds)];
  return new Promise((resolve, reject) => {
    execFile(
      'ffmpeg',
      [...args, '-f', 'null', '-progress', 'pipe:1', '-'],
      { timeout: timeoutMs, maxBuffer: 10 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`ffmpeg could not decode ${url}: ${error.message}\n${stderr}`));
        // -progress prints key=value blocks; the last one holds the totals.
        const last = (key: string) => [...stdout.matchAll(new RegExp(`^${key}=(\\S+)$`, 'gm'))].at(-1)?.[1];
        resolve({ frames: Number(last('frame') ?? 0), seconds: Number(last('out_time_us') ?? 0) / 1e6 });
      },
    );
  });
}

/** ffprobe's view of the stream's first video stream. */
export function probeHls(url: string): Promise<{ codec_name: string; width: number; height: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=codec_name,width,height',
        '-of',
        'json',
        url,
      ],
      { timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`ffprobe failed on ${url}: ${error.message}\n${stderr}`));
        resolve(
          (JSON.parse(stdout) as { streams: [{ codec_name: string; width: number; height: number }] })
            .streams[0],
        );
      },
    );
  });
}
