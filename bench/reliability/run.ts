/**
 * `npm run bench:reliability`: runs the fault and bad-input suites (test/faults, test/bad-input) a
 * number of times, each test recording what it measured (time to recover, inputs tried, what leaked),
 * and writes a report with the medians: bench/results/reliability/<ISO date-time>/, copied to
 * bench/results/reliability-latest/. Everything on loopback; each run takes about five minutes here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { commonFlag, scanArgs, type CommonOptions } from '../lib/args.js';
import { copyToLatest } from '../lib/latest.js';
import { renderReport, summarize, type FigureLine, type RunResult } from './report.js';

const ROOT = join(import.meta.dirname, '..', '..');
const USAGE = `npm run bench:reliability -- [options]

  --repeat <n>     runs of the suites (default 3)
  --suites <list>  comma-separated test folders or files (default test/faults,test/bad-input)
  --out <dir>      output folder (default bench/results/reliability/<ISO date-time>, copied to
                   bench/results/reliability-latest)
  --latest         copy the report to bench/results/reliability-latest even with --out
  --no-build       skip \`npm run build\` (dist/ must exist)
  --rerender <dir> write report.md again from <dir>/figures.jsonl and <dir>/runs.json
  --help           this text`;

const log = (message: string) => process.stderr.write(`\x1b[35m[reliability]\x1b[0m ${message}\n`);

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

function runOnce(run: number, suites: string[], out: string): RunResult {
  const json = join(out, `vitest-${run}.json`);
  const began = Date.now();
  const result = spawnSync(
    'npx',
    ['vitest', 'run', ...suites, '--reporter=default', '--reporter=json', `--outputFile.json=${json}`],
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, CAMSTREAM_FIGURES: join(out, 'figures.jsonl') } },
  );
  const seconds = (Date.now() - began) / 1000;
  if (!existsSync(json)) throw new Error(`vitest wrote no results (exit ${result.status})`);
  const report = JSON.parse(readFileSync(json, 'utf8')) as VitestJson;
  rmSync(json);
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

function write(out: string, runs: RunResult[], command: string, suites: string[]): void {
  const figuresPath = join(out, 'figures.jsonl');
  const lines = existsSync(figuresPath)
    ? readFileSync(figuresPath, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as FigureLine)
    : [];
  const first = lines[0]?.at ?? new Date().toISOString();
  const report = renderReport({
    command,
    suites,
    date: first.slice(0, 16).replace('T', ' ') + ' UTC',
    machine: `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    runs,
    tests: summarize(lines),
  });
  writeFileSync(join(out, 'runs.json'), `${JSON.stringify({ command, suites, runs }, null, 2)}\n`);
  writeFileSync(join(out, 'report.md'), report);
}

interface ReliabilityOptions extends CommonOptions {
  repeat: number;
  suites: string[];
}

const DEFAULT_SUITES = ['test/faults', 'test/bad-input'];

function parseOptions(argv: readonly string[]): ReliabilityOptions {
  const options: ReliabilityOptions = {
    repeat: 3,
    suites: DEFAULT_SUITES,
    out: undefined,
    latest: false,
    build: true,
    rerender: undefined,
    help: false,
  };
  scanArgs(argv, USAGE, (flag, read) => {
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
        return commonFlag(flag, read, options);
    }
  });
  if (options.out === undefined) options.latest = true;
  return options;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  if (options.rerender) {
    const { command, suites, runs } = JSON.parse(
      readFileSync(join(options.rerender, 'runs.json'), 'utf8'),
    ) as {
      command: string;
      suites: string[];
      runs: RunResult[];
    };
    write(options.rerender, runs, command, suites);
    log(`wrote ${join(options.rerender, 'report.md')}`);
    return;
  }
  const { repeat, suites } = options;
  const out =
    options.out ?? join(ROOT, 'bench/results/reliability', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(out, { recursive: true });
  rmSync(join(out, 'figures.jsonl'), { force: true });
  if (options.build) {
    log('building (npm run build)');
    if (spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) {
      throw new Error('npm run build failed');
    }
  }
  const defaultSuites = suites.join(',') === DEFAULT_SUITES.join(',');
  const command = `npm run bench:reliability -- --repeat ${repeat}${defaultSuites ? '' : ` --suites ${suites.join(',')}`}`;
  const runs: RunResult[] = [];
  for (let run = 1; run <= repeat; run += 1) {
    log(`run ${run} of ${repeat}: vitest run ${suites.join(' ')}`);
    runs.push(runOnce(run, suites, out));
    const last = runs.at(-1)!;
    log(`run ${run}: ${last.passed} passed, ${last.failed} failed in ${Math.round(last.seconds)} s`);
    write(out, runs, command, suites);
  }
  if (options.latest) await copyToLatest(out, join(ROOT, 'bench/results/reliability-latest'));
  log(`report: ${join(out, 'report.md')}`);
  if (runs.some((run) => run.failed > 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(`[reliability] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
