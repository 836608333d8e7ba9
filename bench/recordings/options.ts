/** Command-line options of `npm run bench:recordings`, read by bench/lib/args.ts's scanArgs as the other benches' are. Pure. */
import { commonUsage, parseBenchArgs, type CommonOptions, type OwnOptions } from '../lib/args.js';

export const CAMERA_KINDS = ['agent', 'foreign'] as const;
export type CameraKind = (typeof CAMERA_KINDS)[number];

export interface RecordingsOptions extends CommonOptions {
  /** Seconds recorded per camera; the same time again is measured with recording off (half before, half after). */
  seconds: number;
  /** Seconds of a live stream before the first measured phase. */
  warmupSec: number;
  /** MP4 downloads of each recording (the median is reported). */
  downloads: number;
  /** The cameras measured, in this order. */
  cameras: CameraKind[];
}

export const USAGE = `npm run bench:recordings -- [options]

  --seconds <s>     seconds recorded per camera (default 60); as long again with recording off, half
                    before and half after, in the same run (so the on/off ratio is meaningful)
  --warmup <s>      seconds live before the first measured phase (default 5)
  --downloads <n>   MP4 downloads of each recording, for the median download time (default 3)
  --cameras <list>  agent (our agent's test source), foreign (plain ffmpeg, a camera not ours), or both
                    (default agent,foreign)
  --smoke           a quick run for the tests: 8 s recorded, 2 s warm-up, one download
${commonUsage({
  out: 'recordings-<ISO date-time>',
  latest: 'recordings-latest',
  rerender: 'write report.md and the plot again from <dir>/samples.json, measuring nothing',
  column: 20,
})}`;

export function parseArgs(argv: readonly string[]): RecordingsOptions {
  const own: OwnOptions<RecordingsOptions> = {
    seconds: 60,
    warmupSec: 5,
    downloads: 3,
    cameras: [...CAMERA_KINDS],
  };
  return parseBenchArgs(argv, USAGE, own, (flag, read, options) => {
    switch (flag) {
      case '--seconds':
        options.seconds = read.number(4);
        return true;
      case '--warmup':
        options.warmupSec = read.number(0);
        return true;
      case '--downloads':
        options.downloads = Math.round(read.number(1));
        return true;
      case '--cameras': {
        const names = read
          .value()
          .split(',')
          .map((name) => name.trim());
        const unknown = names.filter((name) => !(CAMERA_KINDS as readonly string[]).includes(name));
        if (unknown.length > 0 || names.length === 0)
          throw new Error(`--cameras: unknown ${unknown.join(', ')} (known: ${CAMERA_KINDS.join(', ')})`);
        options.cameras = CAMERA_KINDS.filter((kind) => names.includes(kind));
        return true;
      }
      case '--smoke':
        Object.assign(options, { seconds: 8, warmupSec: 2, downloads: 1 });
        return true;
      default:
        return false;
    }
  });
}
