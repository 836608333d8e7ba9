/**
 * One teardown helper for every suite: register each process, client or folder as it is made, and
 * it is closed after the test (or the file, for `scope: 'file'`), last made first closed.
 */
import { afterAll, afterEach } from 'vitest';

type Closer = () => unknown;

export interface Cleanup {
  add(closer: Closer): void;
  run(): Promise<void>;
}

export function useCleanup(scope: 'test' | 'file' = 'test'): Cleanup {
  const closers: Closer[] = [];
  const cleanup: Cleanup = {
    add(closer) {
      closers.push(closer);
    },
    async run() {
      const errors: unknown[] = [];
      while (closers.length > 0) {
        try {
          await closers.pop()!();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
    },
  };
  (scope === 'test' ? afterEach : afterAll)(() => cleanup.run());
  return cleanup;
}

export { tempDir } from './temp-dir.js';
