/**
 * The USB camera source: ffmpeg reads a V4L2 device and encodes with the Pi's hardware encoder
 * (h264_v4l2m2m, Pi 4 and Zero 2 W) or libx264.
 */
import type { V4l2EncoderSetting, V4l2InputFormat, VideoSettings } from '../config.js';
import { FFMPEG_GLOBAL_ARGS, libx264Args, mpegtsOutputArgs, type EncoderCommand } from './command.js';

export type V4l2Encoder = Exclude<V4l2EncoderSetting, 'auto'>;

export interface V4l2SourceOptions {
  readonly ffmpegPath: string;
  readonly device: string;
  readonly inputFormat: V4l2InputFormat;
  readonly encoder: V4l2Encoder;
  readonly video: VideoSettings;
  readonly port: number;
}

export interface V4l2EncoderFacts {
  /** `ffmpeg -encoders` lists h264_v4l2m2m. */
  readonly ffmpegHasM2m: boolean;
  /** A V4L2 memory-to-memory H.264 encoder device exists (the Pi's is /dev/video11). */
  readonly m2mDevicePresent: boolean;
}

/** `auto` takes the hardware encoder only when both ffmpeg and the device have it. */
export function resolveV4l2Encoder(setting: V4l2EncoderSetting, facts: V4l2EncoderFacts): V4l2Encoder {
  if (setting !== 'auto') return setting;
  return facts.ffmpegHasM2m && facts.m2mDevicePresent ? 'h264_v4l2m2m' : 'libx264';
}

function hardwareArgs(video: VideoSettings): string[] {
  // prettier-ignore
  return [
    '-c:v', 'h264_v4l2m2m',
    '-pix_fmt', 'yuv420p',
    '-b:v', String(video.bitrate),
    '-g', String(video.keyframeInterval),
    // Constrained Baseline (FFmpeg's profile number 578 = 66 | 1 << 9; h264_v4l2m2m knows no
    // profile names): the Pi's encoder defaults to High. It never makes B-frames; with this every
    // browser's WebRTC decodes it. A driver that refuses the profile only makes FFmpeg warn.
    '-profile:v', '578',
    // The hardware encoder emits SPS/PPS once, as extradata; repeat them before every keyframe
    // so a receiver (the HLS segmenter) can start at any keyframe.
    '-bsf:v', 'dump_extra=freq=keyframe',
  ];
}

export function buildV4l2Command(options: V4l2SourceOptions): EncoderCommand {
  const { ffmpegPath, device, inputFormat, encoder, video, port } = options;
  return {
    command: ffmpegPath,
    // prettier-ignore
    args: [
      ...FFMPEG_GLOBAL_ARGS,
      '-f', 'v4l2',
      '-input_format', inputFormat,
      '-video_size', `${video.width}x${video.height}`,
      '-framerate', String(video.fps),
      '-i', device,
      ...(encoder === 'h264_v4l2m2m' ? hardwareArgs(video) : libx264Args(video)),
      ...mpegtsOutputArgs(port),
    ],
    gracefulStop: 'q-stdin',
  };
}
