/**
 * The pictures outputs' variables (MJPEG_FPS, MJPEG_QUALITY, PICTURES_STALL_MS, RAW_MAX_READERS), kept here so that
 * config.ts only spreads them into its table; config.ts is still the one module that reads them.
 */
import { integer } from '../../config-parsers.js';

export interface PicturesConfig {
  /** Frames a second of each camera's MJPEG stream. */
  readonly mjpegFps: number;
  /** ffmpeg's JPEG quantiser (-q:v): 2 is best, 31 worst. */
  readonly mjpegQuality: number;
  /** An MJPEG or stream.ts reader that takes nothing for this long is dropped. */
  readonly picturesStallMs: number;
  /** stream.ts readers of one camera at once (each has its own remuxing ffmpeg); one more gets 503. */
  readonly rawMaxReaders: number;
}

/** Spread into config.ts's VARIABLES, in the order the README documents them. */
export const PICTURES_VARIABLES = {
  MJPEG_FPS: {
    key: 'mjpegFps',
    description: 'frames a second of each camera’s MJPEG stream (stream.mjpg); one decoder per camera',
    default: '10',
    parse: integer(1, 60),
  },
  MJPEG_QUALITY: {
    key: 'mjpegQuality',
    description: 'JPEG quantiser of the MJPEG stream, 2 (best, biggest) to 31 (worst, smallest)',
    default: '5',
    parse: integer(2, 31),
  },
  PICTURES_STALL_MS: {
    key: 'picturesStallMs',
    description:
      'an MJPEG (stream.mjpg) or raw stream (stream.ts) reader that takes nothing for this long is dropped',
    default: '10000',
    parse: integer(500, 600_000),
  },
  RAW_MAX_READERS: {
    key: 'rawMaxReaders',
    description:
      'stream.ts readers of one camera at once (one remuxing ffmpeg each, no decoding); one more gets 503',
    default: '10',
    parse: integer(1, 1000),
  },
} as const;
