/**
 * The Camera Module source: rpicam-vid (rpicam-apps, Raspberry Pi OS Bookworm) encodes and muxes
 * MPEG-TS itself through its libav backend, which writes straight to a udp:// URL. On Pi 4 and
 * Zero 2 W the libav codec is the hardware h264_v4l2m2m; Pi 5 has no H.264 encoder block, and
 * rpicam-vid falls back to libx264 in software there.
 */
import type { VideoSettings } from '../config.js';
import { loopbackUrl, type EncoderCommand } from './command.js';

export interface RpicamSourceOptions {
  readonly rpicamVidPath: string;
  readonly video: VideoSettings;
  readonly port: number;
}

export function buildRpicamCommand({ rpicamVidPath, video, port }: RpicamSourceOptions): EncoderCommand {
  return {
    command: rpicamVidPath,
    // prettier-ignore
    args: [
      '-t', '0', // run until stopped
      '-n', // no preview window
      '--width', String(video.width),
      '--height', String(video.height),
      '--framerate', String(video.fps),
      '--bitrate', String(video.bitrate), // bits/s when no unit is given
      '--intra', String(video.keyframeInterval),
      '--inline', // SPS/PPS before every keyframe: a receiver can join at any keyframe
      // Baseline, hence no B-frames, from the hardware encoder (Pi 4, Zero 2 W: High by default)
      // and libx264 (Pi 5) alike: what Safari's and Firefox's WebRTC decode (Chromium takes any).
      '--profile', 'baseline',
      '--codec', 'libav',
      '--libav-format', 'mpegts',
      // libx264 (Pi 5) without B-frames or lookahead; needs rpicam-apps 1.6 (Dec 2024) or later.
      '--low-latency',
      '-o', loopbackUrl(port),
    ],
    // rpicam-vid ignores stdin; SIGINT makes it finish the file and exit.
    gracefulStop: 'sigint',
  };
}
