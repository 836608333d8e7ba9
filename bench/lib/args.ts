/** Command-line options of `npm run bench`. Pure. */
import { SYSTEM_NAMES, type CameraKind, type SystemName } from './types.js';
import { WEBRTC_SYSTEM_NAMES, type WebrtcSystemName } from '../webrtc/types.js';

const ALL_NAMES: readonly string[] = [...SYSTEM_NAMES, ...WEBRTC_SYSTEM_NAMES];

export interface BenchOptions extends CommonOptions {
  /** Seconds of steady playback measured per system. */
  durationSec: number;
  /** Seconds after the first viewer's first frame that a second, fresh page joins the live stream; 0: none. */
  lateJoinSec: number;
  /** Cold start/stop cycles per system (the last one goes on into the steady run). */
  coldStarts: number;
  /** Seconds each cold start's page is watched after its first frame, for the "settled" figure. */
  settleWindowSec: number;
  /** What feeds the peer: the foreign camera (default: no early keyframe to skew nginx) or our agent. */
  peerCamera: CameraKind;
  /** Output folder; undefined: bench/results/<ISO date-time>. */
  out: string | undefined;
  /** Also copy the report to bench/results/latest (default: only when --out is not given). */
  latest: boolean;
  /** Run `npm run build` first (default), or only check that dist/ exists. */
  build: boolean;
  /** Measured in this order: ours (LL-HLS), ours-foreign, ours-plain (HLS_MODE=plain), peer. */
  systems: SystemName[];
  /** The WebRTC systems, measured after those: ours-webrtc, ours-webrtc-foreign, janus. */
  webrtc: WebrtcSystemName[];
  /** werift viewers of one camera at once (ours-webrtc), for frames per viewer and CPU per viewer; 0: none. */
  viewers: number;
  /** Only re-render report.md and the plot from this folder's samples.json (no measuring). */
  rerender: string | undefined;
  help: boolean;
}

export const USAGE = `npm run bench -- [options]

  --duration <s>       seconds of steady playback measured per system (default 30)
  --cold-starts <n>    start/stop cycles per system for the start figures (default 5)
  --settle-window <s>  each cold start's page is watched this long after its first frame, for the
                       "settled" figure (default 10)
  --late-join <s>      a second viewer opens the live stream this long after the first one's first frame,
                       measured until the window ends (default 10; 0 or --no-late-join: none)
  --systems <list>     the systems to measure, comma-separated, from ours (the service's default, LL-HLS,
                       fed by our agent), ours-foreign (the same, fed by a camera that is not ours: plain
                       ffmpeg), ours-plain (HLS_MODE=plain) and peer (nginx-rtmp)
                       (default ours,ours-foreign,peer), and the WebRTC systems ours-webrtc (our WHEP
                       output, fed by our agent), ours-webrtc-foreign and janus (Janus's streaming plugin
                       fed the same datagrams as ours-webrtc) (default: all three)
  --viewers <n>        WHEP viewers (werift) of one camera at once, for frames and CPU per viewer (default 20; 0: none)
  --with-plain         add ours-plain to the systems
  --only <system>      measure one system only (any of the above)
  --peer-camera <c>    what feeds the peer: foreign (default: plain ffmpeg, a keyframe a second) or agent
${commonUsage({
  out: '<ISO date-time>',
  latest: 'latest',
  rerender: 'write report.md and the plots again from <dir>/samples.json, measuring nothing',
  column: 23,
})}`;

/** What a bench's usage says of the flags every bench takes (commonFlag). */
export interface CommonUsage {
  /** The default output folder under bench/results, e.g. `cameras-<ISO date-time>`. */
  out: string;
  /** The folder under bench/results the report is copied to, e.g. `cameras-latest`. */
  latest: string;
  /** What --rerender does, e.g. `write report.md again from <dir>/samples.json, measuring nothing`. */
  rerender: string;
  /** The column the descriptions start at (the bench's own flags' column). */
  column: number;
}

/** The usage lines of --out, --latest, --no-build, --rerender and --help, aligned at `column`. */
export function commonUsage({ out, latest, rerender, column }: CommonUsage): string {
  const line = (flag: string, text: string) => `  ${flag}`.padEnd(column) + text;
  return [
    line('--out <dir>', `output folder (default bench/results/${out}, copied to`),
    line('', `bench/results/${latest})`),
    line('--latest', `copy the report to bench/results/${latest} even with --out`),
    line('--no-build', 'skip `npm run build` (dist/ must exist)'),
    line('--rerender <dir>', rerender),
    line('--help', 'this text'),
  ].join('\n');
}

/** Reads the value of the flag being handled: as text, or as a number of at least `min`. */
export interface FlagReader {
  value(): string;
  number(min: number): number;
}

/** What every bench command takes: where to write, whether to copy to latest, to build, to re-render. */
export interface CommonOptions {
  out: string | undefined;
  latest: boolean;
  build: boolean;
  rerender: string | undefined;
  help: boolean;
}

/** Handles `--out`, `--latest`, `--no-build`, `--rerender` and `--help`; false for any other flag. */
export function commonFlag(flag: string, read: FlagReader, options: CommonOptions): boolean {
  switch (flag) {
    case '--out':
      options.out = read.value();
      return true;
    case '--latest':
      options.latest = true;
      return true;
    case '--rerender':
      options.rerender = read.value();
      return true;
    default:
      return buildOrHelpFlag(flag, options);
  }
}

/** Handles `--no-build` and `--help` (`-h`), which every bench takes; false for any other flag. */
export function buildOrHelpFlag(flag: string, options: Pick<CommonOptions, 'build' | 'help'>): boolean {
  switch (flag) {
    case '--no-build':
      options.build = false;
      return true;
    case '--help':
    case '-h':
      options.help = true;
      return true;
    default:
      return false;
  }
}

/**
 * Walks `--flag value` and `--flag=value` arguments in order; `onFlag` handles one and returns false
 * for a flag it does not know (an error that shows `usage`).
 */
export function scanArgs(
  argv: readonly string[],
  usage: string,
  onFlag: (flag: string, read: FlagReader) => boolean,
): void {
  const rest = [...argv];
  while (rest.length > 0) {
    const arg = rest.shift()!;
    const at = arg.indexOf('=');
    const flag = at < 0 ? arg : arg.slice(0, at);
    if (at >= 0) rest.unshift(arg.slice(at + 1));
    const read: FlagReader = {
      value() {
        const next = rest.shift();
        if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value`);
        return next;
      },
      number(min) {
        const text = read.value();
        const parsed = Number(text);
        if (!Number.isFinite(parsed) || parsed < min) throw new Error(`${flag} must be a number ≥ ${min}`);
        return parsed;
      },
    };
    if (!onFlag(flag, read)) throw new Error(`unknown argument ${arg}\n\n${usage}`);
  }
}

/** A bench's own options: all but the common ones. */
export type OwnOptions<O extends CommonOptions> = Omit<O, keyof CommonOptions>;

/**
 * A bench's options: `own` (its flags' defaults) and the common ones' defaults; `onFlag` handles the
 * bench's own flags and returns false for the others, which commonFlag takes. Without --out, the
 * report is copied to the bench's latest folder.
 */
export function parseBenchArgs<O extends object>(
  argv: readonly string[],
  usage: string,
  own: O,
  onFlag: (flag: string, read: FlagReader, options: O & CommonOptions) => boolean,
): O & CommonOptions {
  const options: O & CommonOptions = {
    ...own,
    out: undefined,
    latest: false,
    build: true,
    rerender: undefined,
    help: false,
  };
  scanArgs(argv, usage, (flag, read) => onFlag(flag, read, options) || commonFlag(flag, read, options));
  if (options.out === undefined) options.latest = true;
  return options;
}

/** The command line a report names: `npm run <script>`, with the arguments as given (quoted when spaced). */
export function commandOf(script: string, argv: readonly string[]): string {
  if (argv.length === 0) return `npm run ${script}`;
  return `npm run ${script} -- ${argv.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`;
}

export function parseArgs(argv: readonly string[]): BenchOptions {
  const defaults: OwnOptions<BenchOptions> = {
    durationSec: 30,
    lateJoinSec: 10,
    coldStarts: 5,
    settleWindowSec: 10,
    peerCamera: 'foreign',
    systems: ['ours', 'ours-foreign', 'peer'],
    webrtc: [...WEBRTC_SYSTEM_NAMES],
    viewers: 20,
  };
  const options = parseBenchArgs(argv, USAGE, defaults, (flag, read, options) => {
    switch (flag) {
      case '--duration':
        options.durationSec = read.number(1);
        return true;
      case '--cold-starts':
        options.coldStarts = Math.round(read.number(1));
        return true;
      case '--settle-window':
        options.settleWindowSec = read.number(1);
        return true;
      case '--peer-camera': {
        const camera = read.value();
        if (camera !== 'agent' && camera !== 'foreign')
          throw new Error('--peer-camera takes agent or foreign');
        options.peerCamera = camera;
        return true;
      }
      case '--late-join':
        options.lateJoinSec = read.number(0);
        return true;
      case '--no-late-join':
        options.lateJoinSec = 0;
        return true;
      case '--only': {
        const names = systemList(flag, read.value());
        if (names.length !== 1) throw new Error(`--only takes one of ${ALL_NAMES.join(', ')}`);
        [options.systems, options.webrtc] = split(names);
        return true;
      }
      case '--systems':
        [options.systems, options.webrtc] = split(systemList(flag, read.value()));
        return true;
      case '--viewers':
        options.viewers = Math.round(read.number(0));
        return true;
      case '--with-plain':
        if (!options.systems.includes('ours-plain')) options.systems.push('ours-plain');
        return true;
      default:
        return false;
    }
  });
  // Always in the same order, whatever the command line's: ours first, the peer last.
  options.systems = SYSTEM_NAMES.filter((name) => options.systems.includes(name));
  return options;
}

function systemList(flag: string, text: string): string[] {
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !ALL_NAMES.includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`${flag}: unknown system ${unknown.join(', ')} (known: ${ALL_NAMES.join(', ')})`);
  }
  return [...new Set(names)];
}

/** The HLS systems and the WebRTC ones, each in their fixed order. */
function split(names: string[]): [SystemName[], WebrtcSystemName[]] {
  return [
    SYSTEM_NAMES.filter((name) => names.includes(name)),
    WEBRTC_SYSTEM_NAMES.filter((name) => names.includes(name)),
  ];
}
