/**
 * Figures a fault or bad-input test measured (time to recover, how many inputs were tried, what
 * leaked): printed as one `[figures]` line, and appended as JSON lines to $CAMSTREAM_FIGURES when it is
 * set, so `npm run bench:reliability` can repeat the suites and tabulate them. Tests assert on the
 * behaviour; the figures are the report's business.
 */
import { appendFileSync } from 'node:fs';
import { expect } from 'vitest';

export type FigureValue = number | string | boolean;

export function recordFigures(figures: Record<string, FigureValue>): void {
  const test = expect.getState().currentTestName ?? 'unknown test';
  const file = expect.getState().testPath?.replace(/^.*\/test\//, 'test/') ?? 'unknown file';
  console.info(`[figures] ${test}: ${JSON.stringify(figures)}`);
  const out = process.env.CAMSTREAM_FIGURES;
  if (out) appendFileSync(out, `${JSON.stringify({ file, test, at: new Date().toISOString(), figures })}\n`);
}
