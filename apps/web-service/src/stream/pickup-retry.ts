/**
 * A camera that says it streams but whose video does not reach the service (a network cut between
 * them while the service restarted, a firewall that opens later) must not be given up for good after
 * one START_TIMEOUT_MS: nobody is there to start it again. After such a pickup fails, another is tried
 * later, sooner at first and then at most every `maxDelayMs`, for as long as the camera stays active
 * and nobody asked for a stop: `schedule(retry)` after a failed pickup, `cancel()` when the camera
 * stops, a stop is asked for or the service closes, `reset()` once the stream is live. The backoff
 * is @camstream/runtime's; its timers do not hold the process open. The clock is injected so tests
 * need no real time.
 */
import { RestartBackoff, unrefClock, type Clock } from '@camstream/runtime';

export interface PickupRetryOptions {
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly clock?: Clock;
}

export class PickupRetry extends RestartBackoff {
  constructor({ firstDelayMs = 1000, maxDelayMs = 30_000, clock = unrefClock }: PickupRetryOptions = {}) {
    super({ initialMs: firstDelayMs, maxMs: maxDelayMs, clock });
  }
}
