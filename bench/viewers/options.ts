/** Command-line options of `npm run bench:viewers`, read by bench/lib/args.ts's scanArgs as the other benches' are. Pure. */
import { commonFlag, scanArgs, type CommonOptions } from '../lib/args.js';

export interface ViewersOptions extends CommonOptions {
  /** Viewer counts measured, ascending, each on a fresh service. */
  steps: number[];
  /** Seconds of each step's measuring window. */
  durationSec: number;
  /** Seconds over which a step's viewers arrive. */
  rampSec: number;
  /** Seconds between the last arrival and the window. */
  settleSec: number;
  /** Load generator processes. */
  generators: number;
  /** Real hls.js players in Chromium beside the simulated viewers, per step. */
  browsers: number;
  /** Also measure the peer (nginx serving ffmpeg's plain HLS) with as many polling viewers, per step. */
  peer: boolean;
  /** The step whose service runs under V8's profiler (the report lists its busiest functions); 0: none. */
  profileAt: number;
  /** The viewers watch through this caching edge in front of the service (infra/edge/varnish.vcl). */
  edge: 'varnish' | undefined;
  /** HLS_WORKERS of the service: each step is run once per value, back to back. */
  workers: number[];
}

export const USAGE = `npm run bench:viewers -- [options]

  --steps <list>     viewer counts to measure, comma-separated (default 100,500,1000), each on a fresh service
  --duration <s>     seconds each step is measured, after the viewers arrived (default 20)
  --ramp <s>         seconds over which a step's viewers arrive (default 5)
  --settle <s>       seconds between the last arrival and the measuring (default 3)
  --generators <n>   load generator processes (default 4; they share the machine with the service)
  --browsers <n>     real hls.js players in Chromium beside the simulated viewers (default 2; 0: none)
  --profile-at <n>   profile the service (V8's profiler) in the step of <n> viewers (default: the largest; 0: none)
  --workers <list>   the service's HLS_WORKERS (LL-HLS egress processes), comma-separated: each step runs
                     once per value, back to back (default 0)
  --edge varnish     the viewers watch through Varnish (infra/edge/varnish.vcl) in front of the service
  --no-peer          skip the peer (nginx serving ffmpeg's plain HLS files to as many polling viewers)
  --out <dir>        output folder (default bench/results/viewers-<ISO date-time>, copied to
                     bench/results/viewers-latest)
  --latest           copy the report to bench/results/viewers-latest even with --out
  --no-build         skip \`npm run build\` (dist/ must exist)
  --rerender <dir>   write report.md and the plot again from <dir>/samples.json, measuring nothing
  --help             this text`;

export function parseArgs(argv: readonly string[]): ViewersOptions {
  const options: ViewersOptions = {
    steps: [100, 500, 1000],
    durationSec: 20,
    rampSec: 5,
    settleSec: 3,
    generators: 4,
    browsers: 2,
    profileAt: -1,
    peer: true,
    edge: undefined,
    workers: [0],
    out: undefined,
    latest: false,
    build: true,
    rerender: undefined,
    help: false,
  };
  scanArgs(argv, USAGE, (flag, read) => {
    switch (flag) {
      case '--steps': {
        const steps = read
          .value()
          .split(',')
          .map((text) => Number(text.trim()));
        if (steps.some((n) => !Number.isInteger(n) || n < 1))
          throw new Error('--steps takes whole viewer counts ≥ 1, comma-separated');
        options.steps = [...new Set(steps)].sort((a, b) => a - b);
        return true;
      }
      case '--duration':
        options.durationSec = read.number(3);
        return true;
      case '--ramp':
        options.rampSec = read.number(0);
        return true;
      case '--settle':
        options.settleSec = read.number(0);
        return true;
      case '--generators':
        options.generators = Math.round(read.number(1));
        return true;
      case '--browsers':
        options.browsers = Math.round(read.number(0));
        return true;
      case '--edge': {
        const edge = read.value();
        if (edge !== 'varnish') throw new Error(`--edge takes varnish, got ${JSON.stringify(edge)}`);
        options.edge = edge;
        return true;
      }
      case '--workers': {
        const workers = read
          .value()
          .split(',')
          .map((text) => Number(text.trim()));
        if (workers.some((n) => !Number.isInteger(n) || n < 0 || n > 16))
          throw new Error('--workers takes whole numbers from 0 to 16, comma-separated');
        options.workers = [...new Set(workers)];
        return true;
      }
      case '--no-peer':
        options.peer = false;
        return true;
      case '--profile-at':
        options.profileAt = Math.round(read.number(0));
        return true;
      default:
        return commonFlag(flag, read, options);
    }
  });
  if (options.profileAt === -1) options.profileAt = options.steps.at(-1)!;
  else if (options.profileAt !== 0 && !options.steps.includes(options.profileAt))
    throw new Error(`--profile-at: ${options.profileAt} is not one of --steps (${options.steps.join(',')})`);
  if (options.out === undefined) options.latest = true;
  return options;
}
