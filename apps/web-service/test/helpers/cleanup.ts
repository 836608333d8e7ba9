/**
 * One teardown helper: register each process, client or folder as soon as it exists (before the
 * step that could fail), and it is closed after the test, last made first closed.
 */
import { afterAll, afterEach } from 'vitest';

type Closer = () => unknown;

export interface Cleanup {
  add(closer: Closer): void;
}

export function useCleanup(scope: 'test' | 'file' = 'test'): Cleanup {
  const closers: Closer[] = [];
  (scope === 'test' ? afterEach : afterAll)(async () => {
    const errors: unknown[] = [];
    while (closers.length > 0) {
      try {
        await closers.pop()!();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  });
  return { add: (closer) => void closers.push(closer) };
}
