import { setTimeout as sleep } from 'node:timers/promises';

/** Thrown by a probe when waiting longer cannot help (the process it waits on has exited). */
export class GiveUp extends Error {}

/**
 * Retries `probe` until it returns a value other than undefined/false, or throws after `timeoutMs`.
 * `what` may be a function: read when the wait times out, it can say what was last seen.
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 15_000, intervalMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${cause}`,
      );
    }
    await sleep(intervalMs);
  }
}
