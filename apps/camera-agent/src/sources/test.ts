/** The test source: ffmpeg's lavfi pattern, with a running clock, encoded like a camera would be. */
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

export function buildTestSourceCommand({
  ffmpegPath,
  video,
  port,
  fontFile,
}: TestSourceOptions): EncoderCommand {
  const pattern = `testsrc2=size=${video.width}x${video.height}:rate=${video.fps}`;
  const filter = fontFile === undefined ? pattern : `${pattern},${clockOverlay(fontFile)}`;
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
