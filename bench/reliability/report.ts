/**
 * The reliability report, pure: the figures the fault and bad-input suites recorded (one JSON line per
 * test and run, test/helpers/figures.ts) and each run's pass/fail counts, as Markdown tables.
 */

export interface FigureLine {
  readonly file: string;
  readonly test: string;
  readonly at: string;
  readonly figures: Record<string, number | string | boolean>;
}

export interface RunResult {
  readonly run: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly seconds: number;
  /** Names of the failed tests. */
  readonly failures: readonly string[];
}

export interface FigureSummary {
  readonly name: string;
  /** Every value recorded, in order (numbers in a space-separated string count one by one). */
  readonly values: readonly (number | string)[];
  readonly median?: number;
  readonly min?: number;
  readonly max?: number;
}

export interface TestSummary {
  readonly file: string;
  readonly test: string;
  readonly runs: number;
  readonly figures: readonly FigureSummary[];
}

const median = (sorted: number[]) =>
  sorted.length % 2 === 1
    ? sorted[(sorted.length - 1) / 2]!
    : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;

/** `"570 1164 2166"` → three numbers; anything else as it is. */
function valuesOf(value: number | string | boolean): (number | string)[] {
  if (typeof value === 'number') return [value];
  if (typeof value === 'boolean') return [String(value)];
  const parts = value.trim().split(/\s+/);
  return parts.every((part) => part !== '' && Number.isFinite(Number(part))) ? parts.map(Number) : [value];
}

export function summarize(lines: readonly FigureLine[]): TestSummary[] {
  const byTest = new Map<string, { file: string; test: string; lines: FigureLine[] }>();
  for (const line of lines) {
    const key = `${line.file}\n${line.test}`;
    const entry = byTest.get(key) ?? { file: line.file, test: line.test, lines: [] };
    entry.lines.push(line);
    byTest.set(key, entry);
  }
  return [...byTest.values()].map(({ file, test, lines: testLines }) => {
    const names = [...new Set(testLines.flatMap((line) => Object.keys(line.figures)))];
    const figures = names.map((name): FigureSummary => {
      const values = testLines.flatMap((line) => (name in line.figures ? valuesOf(line.figures[name]!) : []));
      const numbers = values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
      if (numbers.length !== values.length || numbers.length === 0) return { name, values };
      return { name, values, median: median(numbers), min: numbers[0]!, max: numbers.at(-1)! };
    });
    return { file, test, runs: testLines.length, figures };
  });
}

const round = (n: number) => (Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 10) / 10);

function cell(summary: FigureSummary): string[] {
  if (summary.median === undefined) {
    const distinct = [...new Set(summary.values.map(String))];
    return ['', '', '', distinct.length <= 3 ? distinct.join('; ') : `${distinct.slice(0, 3).join('; ')}; …`];
  }
  const shown = summary.values.length <= 12 ? summary.values.map((v) => round(v as number)).join(' ') : '';
  return [String(round(summary.median)), String(round(summary.min!)), String(round(summary.max!)), shown];
}

export function renderReport(options: {
  command: string;
  /** What each run ran: test folders or files. */
  suites: readonly string[];
  date: string;
  machine: string;
  runs: readonly RunResult[];
  tests: readonly TestSummary[];
}): string {
  const { runs, tests } = options;
  const passed = runs.reduce((sum, run) => sum + run.passed, 0);
  const failed = runs.reduce((sum, run) => sum + run.failed, 0);
  const out = [
    '# Reliability: the fault and bad-input suites, repeated',
    '',
    `\`${options.command}\`, ${options.date}, on ${options.machine}.`,
    '',
    `${runs.length} run(s) of \`vitest run ${options.suites.join(' ')}\`: ${passed} tests passed, ${failed} failed.`,
    'Each test causes its fault for real (test/faults/*.test.ts says how) and records what it measured;',
    'the tables give the median, the least and the most over every run (times in ms).',
    '',
    '| run | passed | failed | skipped | seconds | failed tests |',
    '| --- | --- | --- | --- | --- | --- |',
    ...runs.map(
      (run) =>
        `| ${run.run} | ${run.passed} | ${run.failed} | ${run.skipped} | ${Math.round(run.seconds)} | ${run.failures.join('; ')} |`,
    ),
    '',
  ];
  let file = '';
  for (const test of tests) {
    if (test.file !== file) {
      file = test.file;
      out.push(`## ${file}`, '');
    }
    out.push(`### ${test.test}`, '', `${test.runs} run(s).`, '');
    out.push('| figure | median | min | max | values |', '| --- | --- | --- | --- | --- |');
    for (const figure of test.figures) out.push(`| ${figure.name} | ${cell(figure).join(' | ')} |`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
