/**
 * The reliability bench works: `npm run bench:reliability` once over a small, pure suite (the
 * report's own arithmetic, test/reliability-report.test.ts) runs vitest, counts what passed, writes
 * runs.json and report.md and says where; `--rerender` writes the report again, with the figures the
 * suites recorded in figures.jsonl. The fault suites themselves are the bench's business (minutes).
 */
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runBenchScript } from './helpers/bench-process.js';
import { tempDir, useCleanup } from './helpers/cleanup.js';

const SUITE = 'test/reliability-report.test.ts';

describe('npm run bench:reliability (smoke)', () => {
  const cleanup = useCleanup();

  test('one run of a suite: runs.json and report.md written; --rerender adds the recorded figures', async () => {
    const out = await tempDir(cleanup, 'camstream-smoke-reliability-out-');

    const { code, output } = await runBenchScript(
      'bench:reliability',
      ['--repeat', '1', '--suites', SUITE, '--no-build', '--out', out],
      cleanup,
    );
    expect(code, output).toBe(0);
    expect(output).toMatch(/\[reliability\] run 1: [1-9]\d* passed, 0 failed in \d+ s/);
    expect(output).toContain(`[reliability] report: `);
    expect(output).not.toContain('copied to'); // --out without --latest: the committed copy stays

    const saved = JSON.parse(await readFile(join(out, 'runs.json'), 'utf8')) as {
      command: string;
      suites: string[];
      runs: { run: number; passed: number; failed: number }[];
      machine: { cores: number; versions: Record<string, string> };
    };
    expect(saved.command).toBe(
      `npm run bench:reliability -- --repeat 1 --suites ${SUITE} --no-build --out ${out}`,
    );
    expect(saved.suites).toEqual([SUITE]);
    expect(saved.runs).toHaveLength(1);
    expect(saved.runs[0]).toMatchObject({ run: 1, failed: 0 });
    expect(saved.runs[0]!.passed).toBeGreaterThan(0);
    expect(saved.machine.cores).toBeGreaterThan(0);
    expect(saved.machine.versions.Node).toBe(process.version);
    const report = await readFile(join(out, 'report.md'), 'utf8');
    expect(report).toContain(
      `1 run(s) of \`vitest run ${SUITE}\`: ${saved.runs[0]!.passed} tests passed, 0 failed.`,
    );
    expect(report).toMatch(
      new RegExp(`^\\| 1 \\| ${saved.runs[0]!.passed} \\| 0 \\| 0 \\| \\d+ \\|  \\|$`, 'm'),
    );

    // A figure as a fault suite records it (test/helpers/figures.ts): the re-rendered report has it.
    const figure = {
      file: 'test/faults/x.test.ts',
      test: 'a fault',
      at: '2026-12-06T03:00:00Z',
      figures: { resumeMs: '500 700' },
    };
    await appendFile(join(out, 'figures.jsonl'), `${JSON.stringify(figure)}\n`);
    const again = await runBenchScript('bench:reliability', ['--rerender', out], cleanup);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('[reliability] re-rendered');
    const rerendered = await readFile(join(out, 'report.md'), 'utf8');
    expect(rerendered).toContain('## test/faults/x.test.ts');
    expect(rerendered).toContain('| resumeMs | 600 | 500 | 700 | 500 700 |');
    expect(rerendered).toContain('2026-12-06 03:00 UTC');
  }, 120_000);
});
