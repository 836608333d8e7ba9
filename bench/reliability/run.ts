/**
 * `npm run bench:reliability`: runs the fault and bad-input suites (test/faults, test/bad-input) a
 * number of times, each test recording what it measured (time to recover, inputs tried, what leaked),
 * and writes a report with the medians: bench/results/reliability/<ISO date-time>/, copied to
 * bench/results/reliability-latest/. Everything on loopback; each run takes about five minutes here.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { commonUsage, parseBenchArgs, type CommonOptions, type OwnOptions } from '../lib/args.js';
import type { MachineInfo } from '../lib/machine.js';
import { runBench } from '../lib/main.js';
import type { Teardown } from '../lib/teardown.js';
import { renderReport, summarize, type FigureLine, type RunResult } from './report.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const USAGE = `npm run bench:reliability -- [options]

  --repeat <n>     runs of the suites (default 3)
  --suites <list>  comma-separated test folders or files (default test/faults,test/bad-input)
${commonUsage({
  out: 'reliability/<ISO date-time>',
  latest: 'reliability-latest',
  rerender: 'write report.md again from <dir>/figures.jsonl and <dir>/runs.json',
  column: 19,
})}`;

/** A run of the suites takes about five minutes here; more than twenty is a hang. */
const RUN_LIMIT_MS = 20 * 60_000;

interface ReliabilityOptions extends CommonOptions {
  repeat: number;
  suites: string[];
}

/** What runs.json holds (`machine` since the bench skeleton; older files have none). */
interface ReliabilityRun {
  command: string;
  suites: string[];
  runs: RunResult[];
  machine?: MachineInfo;
}

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

function parseOptions(argv: readonly string[]): ReliabilityOptions {
  const defaults: OwnOptions<ReliabilityOptions> = { repeat: 3, suites: ['test/faults', 'test/bad-input'] };
  return parseBenchArgs(argv, USAGE, defaults, (flag, read, options) => {
    switch (flag) {
      case '--repeat':
        options.repeat = read.number(1);
        if (!Number.isInteger(options.repeat))
          throw new Error(`--repeat must be a whole number ≥ 1\n${USAGE}`);
        return true;
      case '--suites':
        options.suites = read.value().split(',').filter(Boolean);
        return true;
      default:
        return false;
    }
  });
}

/** One `vitest run` of the suites, its figures appended to `out`/figures.jsonl; stopped by the teardown. */
async function runOnce(run: number, suites: string[], out: string, teardown: Teardown): Promise<RunResult> {
  const json = join(out, `vitest-${run}.json`);
  const began = Date.now();
  const child = spawn(
    'npx',
    ['vitest', 'run', ...suites, '--reporter=default', '--reporter=json', `--outputFile.json=${json}`],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, CAMSTREAM_FIGURES: join(out, 'figures.jsonl') },
      // Its own process group: the teardown stops vitest and every worker with one signal.
      detached: true,
    },
  );
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  teardown.add(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }, `vitest (run ${run})`);
  const status = await exited;
  const seconds = (Date.now() - began) / 1000;
  if (!existsSync(json)) throw new Error(`vitest wrote no results (exit ${status})`);
  const report = JSON.parse(await readFile(json, 'utf8')) as VitestJson;
  await rm(json);
  return {
    run,
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped: report.numPendingTests,
    seconds,
    failures: report.testResults.flatMap((file) =>
      file.assertionResults.filter((a) => a.status === 'failed').map((a) => a.fullName),
    ),
  };
}

/** report.md from the run and the figures the suites recorded in `dir`. */
async function writeReport(dir: string, { command, suites, runs, machine }: ReliabilityRun): Promise<void> {
  const figuresPath = join(dir, 'figures.jsonl');
  const lines = existsSync(figuresPath)
    ? (await readFile(figuresPath, 'utf8'))
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as FigureLine)
    : [];
  const first = lines[0]?.at ?? new Date().toISOString();
  const cores = machine?.cores ?? cpus().length;
  const cpu = machine?.cpu ?? cpus()[0]?.model.trim() ?? 'unknown';
  const memoryGiB = Math.round(machine?.memoryGiB ?? totalmem() / 2 ** 30);
  const report = renderReport({
    command,
    suites,
    date: first.slice(0, 16).replace('T', ' ') + ' UTC',
    machine: `${cores} cores (${cpu}), ${memoryGiB} GiB, Node ${machine?.versions.Node ?? process.version}`,
    runs,
    tests: summarize(lines),
  });
  await writeFile(join(dir, 'report.md'), report);
}

runBench<ReliabilityOptions, ReliabilityRun>({
  name: 'reliability',
  usage: USAGE,
  parse: parseOptions,
  // None required: each suite skips loudly without the tools it needs (and fails under CI).
  tools: { commands: [], chromium: false },
  versions: ['ffmpeg', 'Node', 'Chromium', 'mosquitto'],
  timeLimitMs: (options) => options.repeat * RUN_LIMIT_MS + 120_000,
  outDir: (stamp) => join('reliability', stamp),
  // The suites make and check their own temporary folders.
  tmpdir: false,
  dataFile: 'runs.json',
  write: (dir, run) => writeReport(dir, run),
  async measure({ options, command, machine, outDir, teardown, log, save }) {
    const { repeat, suites } = options;
    await mkdir(outDir, { recursive: true });
    await rm(join(outDir, 'figures.jsonl'), { force: true });
    const run: ReliabilityRun = { command, suites, runs: [], machine };
    for (let n = 1; n <= repeat; n += 1) {
      log(`run ${n} of ${repeat}: vitest run ${suites.join(' ')}`);
      run.runs.push(await runOnce(n, suites, outDir, teardown));
      const last = run.runs.at(-1)!;
      log(`run ${n}: ${last.passed} passed, ${last.failed} failed in ${Math.round(last.seconds)} s`);
      await save(run);
    }
    return run;
  },
  // A failed test is a finding, not a broken bench: the report is still copied to latest.
  exitCode: (run) => (run.runs.some((r) => r.failed > 0) ? 1 : 0),
});
