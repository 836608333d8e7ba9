/** What every source builds: the encoder's command line, sending MPEG-TS to the agent's loopback port. */
import { UDP_DATAGRAM_SIZE } from '@camstream/protocol';
import type { VideoSettings } from '../config.js';

/** How to ask the encoder to stop cleanly: `q` on stdin (ffmpeg) or SIGINT (rpicam-vid). */
export type GracefulStop = 'q-stdin' | 'sigint';

export interface EncoderCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly gracefulStop: GracefulStop;
}

/**
 * The encoder's output URL. `connect=1` makes the encoder's socket a connected one, so when the
 * agent's socket goes away (the agent was killed) sends fail with ECONNREFUSED and the encoder
 * exits instead of streaming into the void forever.
 */
export function loopbackUrl(port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`invalid UDP port ${port}`);
  return `udp://127.0.0.1:${port}?pkt_size=${UDP_DATAGRAM_SIZE}&connect=1`;
}

/** ffmpeg: quiet except for warnings and errors (they go to the agent's log and error messages). */
export const FFMPEG_GLOBAL_ARGS: readonly string[] = ['-hide_banner', '-nostats', '-loglevel', 'warning'];

/**
 * libx264 for live: no lookahead or B-frames (zerolatency), a keyframe exactly every
 * `keyframeInterval` frames and never on a scene cut (HLS segments can only start on one), a small
 * VBV so the bitrate stays even. Baseline (x264 marks it Constrained Baseline, profile-level-id
 * 42e0xx): every H.264 decoder plays it, WebRTC's in Safari and Firefox too, and ultrafast uses no
 * feature beyond it anyway.
 */
export function libx264Args(video: VideoSettings): string[] {
  const gop = String(video.keyframeInterval);
  // A second keyframe 0.2 s in (then every GOP from there): an LL-HLS packager can end the first
  // segment after one part, and players (hls.js starts only from a complete segment) show the
  // first frame ~0.8 s sooner. One extra keyframe per start; later segments stay GOP-aligned.
  const earlyKeyframe = Math.max(1, Math.round(video.fps * 0.2));
  // prettier-ignore
  return [
    '-c:v', 'libx264',
    '-preset', 'ultrafast',
    '-tune', 'zerolatency',
    '-profile:v', 'baseline',
    '-pix_fmt', 'yuv420p',
    '-b:v', String(video.bitrate),
    '-maxrate', String(video.bitrate),
    '-bufsize', String(Math.round(video.bitrate / 2)),
    '-g', gop,
    '-keyint_min', gop,
    '-sc_threshold', '0',
    '-force_key_frames', `expr:eq(n,${earlyKeyframe})`,
  ];
}

/**
 * MPEG-TS to the loopback port, in datagrams of at most 7 TS packets (1316 bytes).
 * `-flush_packets 1` sends each frame as soon as it is muxed: its last datagram is then usually
 * shorter than 1316 bytes (still whole TS packets). Holding it back to fill 1316 bytes would delay
 * every frame's tail by one frame interval, and rpicam-vid (libav's default) flushes anyway.
 * `-muxdelay 0 -muxpreload 0` keep the PCR-to-PTS offset (player buffering) at its minimum.
 */
export function mpegtsOutputArgs(port: number): string[] {
  // prettier-ignore
  return [
    '-an',
    '-f', 'mpegts',
    '-flush_packets', '1',
    '-muxdelay', '0',
    '-muxpreload', '0',
    loopbackUrl(port),
  ];
}
