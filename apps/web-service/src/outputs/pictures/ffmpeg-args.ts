/**
 * The pictures outputs' ffmpeg command lines. Each reads the camera's fMP4 (the init segment, then
 * one moof + mdat per frame, as the fan-out delivers them) on stdin, and writes to stdout, through
 * the remuxer's process owner (ingest/remuxer.ts `arguments`).
 */

/** fMP4 on stdin, probed from its moov alone (the frames are known from it). */
const FMP4_INPUT = ['-hide_banner', '-nostats', '-loglevel', 'level+warning'];
const FMP4_PROBE = ['-probesize', '32', '-analyzeduration', '0', '-f', 'mp4'];

/**
 * One JPEG of the last of `frames` frames (decoding needs all of them, from the keyframe), scaled down
 * to `width` if it is narrower than the picture.
 */
export function snapshotArguments(frames: number, width: number | undefined) {
  const filters = [`select=gte(n\\,${Math.max(0, frames - 1)})`];
  if (width !== undefined) filters.push(`scale=w=min(${width}\\,iw):h=-2`);
  return {
    input: [...FMP4_INPUT, ...FMP4_PROBE],
    output: ['-vf', filters.join(','), '-fps_mode', 'passthrough', '-an', '-f', 'image2pipe'].concat([
      '-c:v',
      'mjpeg',
      '-q:v',
      '3',
    ]),
  };
}

/**
 * The camera's MJPEG decoder: JPEGs at `fps`, quality `quality`. One decoding thread: frame threads
 * would hold pictures back by a frame each.
 */
export function mjpegArguments(fps: number, quality: number) {
  return {
    input: [...FMP4_INPUT, '-threads', '1', '-fflags', 'nobuffer', ...FMP4_PROBE],
    output: ['-vf', `fps=${fps}`, '-an', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', String(quality)].concat(
      ['-flush_packets', '1'],
    ),
  };
}

/** stream.ts: the camera's H.264 as it is, in MPEG-TS, each packet flushed at once. */
export function rawTsArguments() {
  return {
    input: [...FMP4_INPUT, ...FMP4_PROBE],
    output: [
      '-c',
      'copy',
      '-an',
      '-f',
      'mpegts',
      '-muxdelay',
      '0',
      '-muxpreload',
      '0',
      '-flush_packets',
      '1',
    ],
  };
}
