/** Command-line options of `npm run bench:soak`, read by bench/lib/args.ts's parseBenchArgs as the other benches' are. Pure. */
import { commonUsage, parseBenchArgs, type CommonOptions, type OwnOptions } from '../lib/args.js';

export interface SoakOptions extends CommonOptions {
  /** Seconds of playback, counted from the viewer's first frame. */
  durationSec: number;
  /** Seconds between samples. */
  intervalSec: number;
  /** Seconds after the first frame left out of the verdicts; undefined: the default for this duration. */
  warmupSec: number | undefined;
}

export const USAGE = `npm run bench:soak -- [options]

  --duration <s>    seconds of playback, from the viewer's first frame (default 1800)
  --interval <s>    seconds between samples (default 5)
  --warmup <s>      seconds after the first frame left out of the verdicts
                    (default 60, or a fifth of --duration when that is shorter)
${commonUsage({
  out: 'soak/<ISO date-time>',
  latest: 'soak-latest',
  rerender: 'write report.md and the plots again from <dir>/samples.json, measuring nothing',
  column: 20,
})}`;

/** The warm-up a run of `durationSec` gets by default: 60 s, but never more than a fifth of the run. */
export function defaultWarmupSec(durationSec: number): number {
  return Math.min(60, Math.round(durationSec / 5));
}

/** The warm-up in effect: as given, or the default; always leaving at least three samples after it. */
export function warmupOf(options: Pick<SoakOptions, 'durationSec' | 'intervalSec' | 'warmupSec'>): number {
  const wanted = options.warmupSec ?? defaultWarmupSec(options.durationSec);
  return Math.max(0, Math.min(wanted, options.durationSec - 3 * options.intervalSec));
}

export function parseArgs(argv: readonly string[]): SoakOptions {
  const defaults: OwnOptions<SoakOptions> = { durationSec: 1800, intervalSec: 5, warmupSec: undefined };
  const options = parseBenchArgs(argv, USAGE, defaults, (flag, read, options) => {
    switch (flag) {
      case '--duration':
        options.durationSec = read.number(1);
        return true;
      case '--interval':
        options.intervalSec = read.number(0.5);
        return true;
      case '--warmup':
        options.warmupSec = read.number(0);
        return true;
      default:
        return false;
    }
  });
  // A verdict needs a few samples after the warm-up.
  if (options.durationSec < 4 * options.intervalSec) {
    throw new Error(`--duration must be at least 4 × --interval (${4 * options.intervalSec} s)`);
  }
  return options;
}
