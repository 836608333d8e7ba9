/**
 * The test source: ffmpeg's lavfi pattern, with a running clock and (by default) the capture-time
 * stamp, encoded like a camera would be.
 */
import { STAMP_BITS, STAMP_BLOCKS, stampGeometry } from '@camstream/protocol';
import type { VideoSettings } from '../config.js';
import { FFMPEG_GLOBAL_ARGS, libx264Args, mpegtsOutputArgs, type EncoderCommand } from './command.js';

export interface TestSourceOptions {
  readonly ffmpegPath: string;
  readonly video: VideoSettings;
  /** The agent's loopback UDP port. */
  readonly port: number;
  /**
   * A TrueType font for the clock overlay; without one, only testsrc2's own small timestamp shows
   * (drawtext cannot render without a font, and ffmpeg would refuse to start).
   */
  readonly fontFile?: string;
  /** Stamp each frame with its capture time (see stampFilters); default false. */
  readonly stamp?: boolean;
}

/** Characters a font path may hold here: anything else would need filtergraph escaping. */
const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;

/** The wall clock and the stream time, bottom left: glass-to-glass delay can be read off a screenshot. */
export function clockOverlay(fontFile: string): string {
  if (!SAFE_PATH.test(fontFile)) throw new TypeError(`unsupported characters in font path ${fontFile}`);
  // In a filter option `:` separates options, so the one inside %{pts:hms} is escaped.
  return [
    'drawtext=fontfile=' + fontFile,
    "text='%{localtime} %{pts\\:hms}'",
    'fontsize=h/20',
    'fontcolor=white',
    'box=1',
    'boxcolor=black@0.6',
    'boxborderw=6',
    'x=8',
    'y=h-th-14',
  ].join(':');
}

/** Even, at least 2: yuv420p frames are cut and sized in whole chroma samples. */
const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));

/**
 * The capture-time stamp of @camstream/protocol drawn into the frame, as filters that follow the
 * pattern. `setpts` reads the wall clock (RTCTIME, µs since the epoch) as each frame passes; with
 * `-re` that is when the frame is produced. geq evaluates an expression per pixel, so it draws one
 * pixel per block (a 34 × 2 strip cut from the frame, for its timestamp) and `scale` blows that up to
 * the band (18 × 16 px blocks at 640 wide): a 612 × 16 geq cost ~7 % of a core at 640x480@30 here,
 * this one about 1 %. The strip is laid over the frame, then the frames get clean timestamps again,
 * 1/fps apart, for the encoder and the muxer.
 */
export function stampFilters(video: VideoSettings): string {
  const band = stampGeometry(video.width);
  // X is the block. T is the frame time in seconds, a double: round (not floor) to whole ms.
  const bit = `mod(floor(round(T*1000)/pow(2,${STAMP_BITS}-X)),2)`;
  const lum = `if(eq(X,0),235,if(gte(X,${STAMP_BLOCKS - 1}),16,16+219*${bit}))`;
  const width = Math.min(video.width, even(band.width));
  return [
    'format=yuv420p,settb=1/1000,setpts=floor(RTCTIME/1000),split[main][band]',
    `[band]crop=${STAMP_BLOCKS}:2:0:0,geq=lum='${lum}':cb=128:cr=128,` +
      `scale=${width}:${even(band.height)}:flags=neighbor[stamp]`,
    `[main][stamp]overlay=0:0,settb=1/${video.fps},setpts=N`,
  ].join(';');
}

export function buildTestSourceCommand({
  ffmpegPath,
  video,
  port,
  fontFile,
  stamp = false,
}: TestSourceOptions): EncoderCommand {
  let filter = `testsrc2=size=${video.width}x${video.height}:rate=${video.fps}`;
  // The band needs the frame to be at least 34 pixels wide and as tall as the band.
  const fits = video.width >= STAMP_BLOCKS && even(stampGeometry(video.width).height) <= video.height;
  if (stamp && fits) filter += `,${stampFilters(video)}`;
  if (fontFile !== undefined) filter += `,${clockOverlay(fontFile)}`;
  return {
    command: ffmpegPath,
    args: [
      ...FFMPEG_GLOBAL_ARGS,
      '-re',
      '-f',
      'lavfi',
      '-i',
      filter,
      ...libx264Args(video),
      ...mpegtsOutputArgs(port),
    ],
    gracefulStop: 'q-stdin',
  };
}
