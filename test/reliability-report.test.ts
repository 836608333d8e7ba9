/** The reliability report's arithmetic, on figures as the suites record them. */
import { describe, expect, test } from 'vitest';
import { renderReport, summarize, type FigureLine } from '../bench/reliability/report.js';

const line = (figures: FigureLine['figures'], test = 'the encoder killed'): FigureLine => ({
  file: 'test/faults/agent.test.ts',
  test,
  at: '2026-12-01T00:00:00Z',
  figures,
});

describe('the reliability report', () => {
  test('medians over every run, lists of numbers counted one by one, words kept as they are', () => {
    const [summary] = summarize([
      line({ resumeMs: '570 1164 2166', kills: 3, mode: 'll' }),
      line({ resumeMs: '560 1100 2100', kills: 3, mode: 'll' }),
    ]);
    expect(summary!.runs).toBe(2);
    const resume = summary!.figures.find((f) => f.name === 'resumeMs')!;
    expect(resume).toMatchObject({ median: (1100 + 1164) / 2, min: 560, max: 2166 });
    expect(resume.values).toHaveLength(6);
    expect(summary!.figures.find((f) => f.name === 'mode')).toEqual({ name: 'mode', values: ['ll', 'll'] });
    const text = renderReport({
      command: 'npm run bench:reliability -- --repeat 2',
      suites: ['test/faults', 'test/bad-input'],
      date: '2026-12-01',
      machine: 'a test',
      runs: [
        { run: 1, passed: 20, failed: 0, skipped: 0, seconds: 300, failures: [] },
        { run: 2, passed: 19, failed: 1, skipped: 0, seconds: 310, failures: ['the broker restarted'] },
      ],
      tests: [summary!],
    });
    expect(text).toContain('39 tests passed, 1 failed');
    expect(text).toContain('| resumeMs | 1132 | 560 | 2166 | 570 1164 2166 560 1100 2100 |');
    expect(text).toContain('| mode |  |  |  | ll |');
    expect(text).toContain('| 2 | 19 | 1 | 0 | 310 | the broker restarted |');
  });
});
