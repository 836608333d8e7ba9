import { describe, expect, test } from 'vitest';
import { LogBudget } from '../src/log-budget.js';

describe('LogBudget', () => {
  test('lets `limit` lines through per window, counts the rest and reports them once', () => {
    const budget = new LogBudget(3, 1000);
    const first = Array.from({ length: 10 }, (_, i) => budget.spend(i));
    expect(first.map((r) => r.log)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(first.every((r) => r.suppressedBefore === 0)).toBe(true);
    expect(budget.spend(1000)).toEqual({ log: true, suppressedBefore: 7 });
    expect(budget.spend(1001)).toEqual({ log: true, suppressedBefore: 0 });
    expect(budget.spend(5000)).toEqual({ log: true, suppressedBefore: 0 });
  });
});
