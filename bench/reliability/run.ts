/**
 * `npm run bench:reliability`: runs the fault and bad-input suites (test/faults, test/bad-input) a
 * number of times, each test recording what it measured (time to recover, inputs tried, what leaked),
 * and writes a report with the medians: bench/results/reliability/<ISO date-time>/, copied to
 * bench/results/reliability-latest/. Everything on loopback; each run takes about five minutes here.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderReport, summarize, type FigureLine, type RunResult } from './report.js';

const ROOT = join(import.meta.dirname, '..', '..');
const USAGE = `npm run bench:reliability -- [options]

  --repeat <n>     runs of the suites (default 3)
  --suites <list>  comma-separated test folders or files (default test/faults,test/bad-input)
  --out <dir>      output folder (default bench/results/reliability/<ISO date-time>, copied to
                   bench/results/reliability-latest)
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

function main(): void {
  const { values } = parseArgs({
    options: {
      repeat: { type: 'string', default: '3' },
      suites: { type: 'string', default: 'test/faults,test/bad-input' },
      out: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      rerender: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.rerender) {
    const { command, suites, runs } = JSON.parse(
      readFileSync(join(values.rerender, 'runs.json'), 'utf8'),
    ) as {
      command: string;
      suites: string[];
      runs: RunResult[];
    };
    write(values.rerender, runs, command, suites);
    log(`wrote ${join(values.rerender, 'report.md')}`);
    return;
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1)
    throw new Error(`--repeat must be a whole number ≥ 1\n${USAGE}`);
  const suites = values.suites.split(',').filter(Boolean);
  const out =
    values.out ?? join(ROOT, 'bench/results/reliability', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(out, { recursive: true });
  rmSync(join(out, 'figures.jsonl'), { force: true });
  if (!values['no-build']) {
    log('building (npm run build)');
    if (spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) {
      throw new Error('npm run build failed');
    }
  }
  const command = `npm run bench:reliability -- --repeat ${repeat}${values.suites === 'test/faults,test/bad-input' ? '' : ` --suites ${values.suites}`}`;
  const runs: RunResult[] = [];
  for (let run = 1; run <= repeat; run += 1) {
    log(`run ${run} of ${repeat}: vitest run ${suites.join(' ')}`);
    runs.push(runOnce(run, suites, out));
    const last = runs.at(-1)!;
    log(`run ${run}: ${last.passed} passed, ${last.failed} failed in ${Math.round(last.seconds)} s`);
    write(out, runs, command, suites);
  }
  if (!values.out) {
    const latest = join(ROOT, 'bench/results/reliability-latest');
    rmSync(latest, { recursive: true, force: true });
    cpSync(out, latest, { recursive: true });
  }
  log(`report: ${join(out, 'report.md')}`);
  if (runs.some((run) => run.failed > 0)) process.exitCode = 1;
}

main();
