/** The timers the timer classes use, injected so tests can drive them with fake timers. */

export type TimerHandle = ReturnType<typeof setTimeout>;

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Looks the globals up on every call, so vitest's fake timers (installed later) are used. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle),
};

/** systemClock whose timers do not keep the process alive (a retry nobody waits for). */
export const unrefClock: Clock = {
  ...systemClock,
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
};
