/** Command-line options of `npm run bench:cameras`, read by bench/lib/args.ts's parseBenchArgs as the other benches' are. Pure. */
import { commonUsage, parseBenchArgs, type CommonOptions, type OwnOptions } from '../lib/args.js';

export interface CamerasOptions extends CommonOptions {
  /** Cameras in the largest step. */
  cameras: number;
  /** Camera counts measured, ascending, each with a fresh service and broker; always 1 and `cameras`. */
  steps: number[];
  /** Seconds every camera of a step streams at once while the service is sampled. */
  durationSec: number;
  /** Start rounds per step: each starts the cameras one at a time, then all together. */
  rounds: number;
  /** A checkout of the service from before many cameras, built: measured with one camera as ours is. */
  baseline: string | undefined;
  /** What the report calls the baseline (default: its folder). */
  baselineName: string | undefined;
  /** Turns of one camera on the baseline and on ours (with --baseline). */
  pairs: number;
}

export const USAGE = `npm run bench:cameras -- [options]

  --cameras <n>     cameras in the largest step (default 10)
  --steps <list>    camera counts to measure, comma-separated (default 1, half of --cameras, --cameras);
                    1 and --cameras are always measured
  --duration <s>    seconds all cameras of a step stream at once while sampled (default 30)
  --rounds <n>      start rounds per step, each one at a time and then all together (default 3)
  --baseline <dir>  also measure, with one camera and before ours, the service built in <dir> (a checkout
                    from before many cameras, after npm ci and npm run build): is one camera no worse?
  --baseline-name <text>  what the report calls it (default: <dir>)
  --pairs <n>       with --baseline: one camera on it and on ours, taking turns n times (default 3)
${commonUsage({
  out: 'cameras-<ISO date-time>',
  latest: 'cameras-latest',
  rerender: 'write report.md and the plot again from <dir>/samples.json, measuring nothing',
  column: 20,
})}`;

/** 1, the middle, N: the default steps for `cameras` cameras. */
export function defaultSteps(cameras: number): number[] {
  return [...new Set([1, Math.ceil(cameras / 2), cameras])];
}

export function parseArgs(argv: readonly string[]): CamerasOptions {
  const defaults: OwnOptions<CamerasOptions> = {
    cameras: 10,
    steps: [],
    durationSec: 30,
    rounds: 3,
    baseline: undefined,
    baselineName: undefined,
    pairs: 3,
  };
  let steps: number[] | undefined;
  const options = parseBenchArgs(argv, USAGE, defaults, (flag, read, options) => {
    switch (flag) {
      case '--cameras':
        options.cameras = Math.round(read.number(1));
        return true;
      case '--steps':
        steps = read
          .value()
          .split(',')
          .map((text) => Number(text.trim()));
        if (steps.some((n) => !Number.isInteger(n) || n < 1))
          throw new Error('--steps takes whole camera counts ≥ 1, comma-separated');
        return true;
      case '--duration':
        options.durationSec = read.number(2);
        return true;
      case '--rounds':
        options.rounds = Math.round(read.number(1));
        return true;
      case '--baseline':
        options.baseline = read.value();
        return true;
      case '--pairs':
        options.pairs = Math.round(read.number(1));
        return true;
      case '--baseline-name':
        options.baselineName = read.value();
        return true;
      default:
        return false;
    }
  });
  if (options.cameras > 99) throw new Error('--cameras: at most 99');
  const wanted = steps ?? defaultSteps(options.cameras);
  if (wanted.some((n) => n > options.cameras))
    throw new Error(`--steps: none above --cameras (${options.cameras})`);
  options.steps = [...new Set([1, ...wanted, options.cameras])].sort((a, b) => a - b);
  return options;
}
