/** Command-line options of `npm run bench`. Pure. */
import { SYSTEM_NAMES, type SystemName } from './types.js';

export interface BenchOptions {
  /** Seconds of steady playback measured per system. */
  durationSec: number;
  /** Seconds after the first viewer's first frame that a second, fresh page joins the live stream; 0: none. */
  lateJoinSec: number;
  /** Cold start/stop cycles per system (the last one goes on into the steady run). */
  coldStarts: number;
  /** Output folder; undefined: bench/results/<ISO date-time>. */
  out: string | undefined;
  /** Also copy the report to bench/results/latest (default: only when --out is not given). */
  latest: boolean;
  /** Run `npm run build` first (default), or only check that dist/ exists. */
  build: boolean;
  /** Measured in this order: ours (LL-HLS, the service's default), ours-plain (HLS_MODE=plain), peer. */
  systems: SystemName[];
  /** Only re-render report.md and the plot from this folder's samples.json (no measuring). */
  rerender: string | undefined;
  help: boolean;
}

export const USAGE = `npm run bench -- [options]

  --duration <s>       seconds of steady playback measured per system (default 30)
  --cold-starts <n>    start/stop cycles per system for the start figures (default 5)
  --late-join <s>      a second viewer opens the live stream this long after the first one's first frame,
                       measured until the window ends (default 10; 0 or --no-late-join: none)
  --out <dir>          output folder (default bench/results/<ISO date-time>, copied to bench/results/latest)
  --latest             copy the report to bench/results/latest even with --out
  --no-build           skip \`npm run build\` (dist/ must exist)
  --systems <list>     the systems to measure, comma-separated, from ours (the service's default, LL-HLS),
                       ours-plain (the same service with HLS_MODE=plain) and peer (nginx-rtmp)
                       (default ours,peer)
  --with-plain         add ours-plain to the systems
  --only <system>      measure one system only (ours, ours-plain or peer)
  --rerender <dir>     write report.md and latency.svg/.png again from <dir>/samples.json, measuring nothing
  --help               this text`;

export function parseArgs(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = {
    durationSec: 30,
    lateJoinSec: 10,
    coldStarts: 5,
    out: undefined,
    latest: false,
    build: true,
    systems: ['ours', 'peer'],
    rerender: undefined,
    help: false,
  };
  const rest = [...argv];
  const value = (flag: string): string => {
    const next = rest.shift();
    if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value`);
    return next;
  };
  const positive = (flag: string, text: string, min: number): number => {
    const number = Number(text);
    if (!Number.isFinite(number) || number < min) throw new Error(`${flag} must be a number ≥ ${min}`);
    return number;
  };
  while (rest.length > 0) {
    const arg = rest.shift()!;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg];
    if (inline !== undefined) rest.unshift(inline);
    switch (flag) {
      case '--duration':
        options.durationSec = positive(flag, value(flag), 1);
        break;
      case '--cold-starts':
        options.coldStarts = Math.round(positive(flag, value(flag), 1));
        break;
      case '--late-join':
        options.lateJoinSec = positive(flag, value(flag), 0);
        break;
      case '--no-late-join':
        options.lateJoinSec = 0;
        break;
      case '--out':
        options.out = value(flag);
        break;
      case '--latest':
        options.latest = true;
        break;
      case '--no-build':
        options.build = false;
        break;
      case '--only':
        options.systems = systemList(flag, value(flag));
        if (options.systems.length !== 1) throw new Error(`--only takes one of ${SYSTEM_NAMES.join(', ')}`);
        break;
      case '--systems':
        options.systems = systemList(flag, value(flag));
        break;
      case '--with-plain':
        if (!options.systems.includes('ours-plain')) options.systems.push('ours-plain');
        break;
      case '--rerender':
        options.rerender = value(flag);
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      default:
        throw new Error(`unknown argument ${arg}\n\n${USAGE}`);
    }
  }
  if (options.out === undefined) options.latest = true;
  // Always in the same order, whatever the command line's: ours first, the peer last.
  options.systems = SYSTEM_NAMES.filter((name) => options.systems.includes(name));
  return options;
}

function systemList(flag: string, text: string): SystemName[] {
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(SYSTEM_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`${flag}: unknown system ${unknown.join(', ')} (known: ${SYSTEM_NAMES.join(', ')})`);
  }
  return [...new Set(names as SystemName[])];
}
