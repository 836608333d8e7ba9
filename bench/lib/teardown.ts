/**
 * Everything the bench starts is registered here as it is made and closed in reverse order: at the
 * end, on an error, on Ctrl-C (SIGINT/SIGTERM/SIGHUP) and when the time limit runs out. Same shape
 * as the tests' Cleanup, so the test helpers (system.ts, browser.ts) register with it directly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cleanup } from '../../test/helpers/cleanup.js';

type Closer = () => unknown;

/** One closer may take this long before the next one runs anyway. */
const CLOSER_TIMEOUT_MS = 15_000;

export class Teardown implements Cleanup {
  readonly #closers: { what: string; close: Closer }[] = [];
  #running: Promise<void> | undefined;

  add(close: Closer, what = 'resource'): void {
    this.#closers.push({ what, close });
  }

  /** Closes everything registered, last first; logs (does not throw) what failed. Idempotent. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      while (this.#closers.length > 0) {
        const { what, close } = this.#closers.pop()!;
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(close),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error('took too long')), CLOSER_TIMEOUT_MS);
            }),
          ]);
        } catch (err) {
          console.error(`bench: cleanup of ${what} failed: ${(err as Error).message}`);
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return this.#running;
  }

  /**
   * Ctrl-C and friends, and a hard time limit: tear down, then exit with `code`. Returns a function
   * that removes the handlers (call it once the run ended normally).
   */
  guard(limitMs: number): () => void {
    let bailedAt: number | undefined;
    const bail = (why: string, code: number) => {
      // One Ctrl-C reaches this process more than once (the terminal's, and tsx and npm relay theirs):
      // only a signal well after the first means "stop tearing down, leave now".
      if (bailedAt !== undefined) {
        if (Date.now() - bailedAt > 3000) process.exit(code);
        return;
      }
      bailedAt = Date.now();
      console.error(`\nbench: ${why}: stopping everything (Ctrl-C again in a few seconds to leave at once)`);
      void this.run().finally(() => process.exit(code));
    };
    const handlers = SIGNALS.map((signal) => {
      const handler = () => bail(`got ${signal}`, 130);
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    const timer = setTimeout(() => bail(`time limit of ${Math.round(limitMs / 1000)} s reached`, 1), limitMs);
    timer.unref();
    return () => {
      clearTimeout(timer);
      for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    };
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * One private temporary folder for the run, made TMPDIR of this process and of every process it
 * starts from now on: nothing is left in /tmp, and its disk figures are the run's alone. Removed by
 * the teardown (register it first: it goes last).
 */
export async function privateTmpdir(teardown: Teardown, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  teardown.add(() => rm(dir, { recursive: true, force: true }), 'the temporary folder');
  process.env.TMPDIR = dir;
  return dir;
}
