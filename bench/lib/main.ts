/**
 * The skeleton of a bench's run.ts, around what it measures: its arguments (--help, --rerender), the
 * tools it needs, the machine and versions (noted before the build, which loads the machine), the
 * build, then the measuring under a time limit with everything torn down at the end, on Ctrl-C and
 * when time runs out (teardown.ts); then the report folder (the run's data, report.md, the plots)
 * and where it went, copied to bench/results/<name>-latest.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { CHROMIUM_PATH } from '../../test/helpers/tools.js';
import { NGINX_PATH } from '../peer/nginx.js';
import { svgToPng } from '../report/png.js';
import { commandOf, type CommonOptions } from './args.js';
import { launchBrowser } from './browser.js';
import { buildOrCheck } from './build.js';
import { publish, RESULTS, timeStamp } from './latest.js';
import { machineInfo, requireTools, type MachineInfo, type VersionName } from './machine.js';
import { privateTmpdir, Teardown } from './teardown.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** A bench's run, as saved: a `failure` in it says it stopped early (no copy to latest, exit 1). */
export type BenchRun = object;

const stoppedEarly = (run: BenchRun): boolean => 'failure' in run && Boolean(run.failure);

/** What writing the report needs. */
export interface WriteContext {
  teardown: Teardown;
  log: (line: string) => void;
  /** Chromium, launched on the first call and shared with the measuring (it draws the PNGs). */
  browser(): Promise<BrowserContext>;
  /** Writes `svg` to `dir`/`file` and its PNG beside it (`cameras.svg` → `cameras.png`). */
  plot(dir: string, file: string, svg: string): Promise<void>;
}

export interface RunContext<O, R> extends WriteContext {
  options: O;
  /** The command line, as the report shows it. */
  command: string;
  machine: MachineInfo;
  startedAt: Date;
  /** Where the report goes (made by `save`). */
  outDir: string;
  /** Saves the run's data and writes its report now (the skeleton does it once more at the end). */
  save(run: R): Promise<void>;
  /** The run's private TMPDIR (with `tmpdir`), removed at the end. */
  tempRoot: string | undefined;
}

export interface BenchSpec<O extends CommonOptions, R extends BenchRun> {
  /** `cameras`: logs as [cameras], runs as `npm run bench:cameras`, copies to bench/results/cameras-latest. */
  name: string;
  usage: string;
  parse(argv: readonly string[]): O;
  /** Commands it needs on PATH; `chromium`: Debian's Chromium too. */
  tools: { commands: readonly string[]; chromium: boolean };
  /** The versions its report names. */
  versions: readonly VersionName[];
  /** Upper bound for the whole run. */
  timeLimitMs(options: O): number;
  /** Its folder under bench/results by default, from the start's time stamp. */
  outDir(stamp: string): string;
  /** Give the run a private TMPDIR, `camstream-<name>-…`, logged as `temporary folder <dir>`. */
  tmpdir: boolean;
  /** Measures; a failure it can report on goes in the run's `failure`, anything else throws. */
  measure(ctx: RunContext<O, R>): Promise<R>;
  /** Writes report.md and the plots from the run (also for --rerender, from the saved data). */
  write(dir: string, run: R, ctx: WriteContext): Promise<void>;
  /** The file the run is saved to as JSON, and --rerender reads (default samples.json). */
  dataFile?: string;
  /** Default: 1 when the run stopped early. */
  exitCode?(run: R): number;
}

/** Runs the bench as its npm script: exits with its code, or 1 with the error's message. */
export function runBench<O extends CommonOptions, R extends BenchRun>(spec: BenchSpec<O, R>): void {
  main(spec).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`[${spec.name}] failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

function writeContext(teardown: Teardown, log: (line: string) => void): WriteContext {
  let browser: Promise<BrowserContext> | undefined;
  const ctx: WriteContext = {
    teardown,
    log,
    browser: () => (browser ??= launchBrowser(teardown)),
    async plot(dir, file, svg) {
      await writeFile(join(dir, file), svg);
      await svgToPng(await ctx.browser(), svg, join(dir, file.replace(/\.svg$/, '.png')));
    },
  };
  return ctx;
}

async function main<O extends CommonOptions, R extends BenchRun>(spec: BenchSpec<O, R>): Promise<number> {
  const log = (line: string) => console.log(`[${spec.name}] ${line}`);
  const dataFile = spec.dataFile ?? 'samples.json';
  const argv = process.argv.slice(2);
  const options = spec.parse(argv);
  if (options.help) {
    console.log(spec.usage);
    return 0;
  }
  if (options.rerender !== undefined) {
    const dir = resolve(options.rerender);
    const run = JSON.parse(await readFile(join(dir, dataFile), 'utf8')) as R;
    const teardown = new Teardown();
    try {
      await spec.write(dir, run, writeContext(teardown, log));
      log(`re-rendered ${relative(process.cwd(), join(dir, 'report.md'))}`);
      return 0;
    } finally {
      await teardown.run();
    }
  }
  requireTools(spec.tools.commands, spec.tools.chromium ? { chromium: CHROMIUM_PATH } : {});
  const machine = machineInfo(ROOT, CHROMIUM_PATH, NGINX_PATH, spec.versions);
  buildOrCheck(ROOT, options.build, log);
  const startedAt = new Date();
  const outDir = resolve(options.out ?? join(RESULTS, spec.outDir(timeStamp(startedAt))));
  const teardown = new Teardown();
  const unguard = teardown.guard(spec.timeLimitMs(options));
  try {
    const tempRoot = spec.tmpdir ? await privateTmpdir(teardown, `camstream-${spec.name}-`) : undefined;
    if (tempRoot !== undefined) log(`temporary folder ${tempRoot}`);
    const writing = writeContext(teardown, log);
    const command = commandOf(`bench:${spec.name}`, argv);
    const save = async (run: R) => {
      await mkdir(outDir, { recursive: true });
      await writeFile(join(outDir, dataFile), JSON.stringify(run, null, 1) + '\n');
      await spec.write(outDir, run, writing);
    };
    const run = await spec.measure({
      ...writing,
      options,
      command,
      machine,
      startedAt,
      outDir,
      tempRoot,
      save,
    });
    await save(run);
    await publish(outDir, `${spec.name}-latest`, options.latest && !stoppedEarly(run), log);
    return spec.exitCode?.(run) ?? (stoppedEarly(run) ? 1 : 0);
  } finally {
    log('stopping everything');
    await teardown.run();
    unguard();
  }
}
