import { describe, expect, test } from 'vitest';
import { LIVE_HLS_CONFIG, rebuildDelayMs, retryMissing } from '../src/player/hls-config';

const policy = { maxNumRetry: 3, retryDelayMs: 250, maxRetryDelayMs: 2000 };

describe('retryMissing', () => {
  test("keeps hls.js's own verdict when it retries", () => {
    expect(retryMissing(policy, 0, false, { url: 'u', code: 500 }, true)).toBe(true);
  });

  test('retries a playlist or segment that is not there yet, within maxNumRetry', () => {
    expect(retryMissing(policy, 0, false, { url: 'u', code: 404 }, false)).toBe(true);
    expect(retryMissing(policy, 2, false, { url: 'u', code: 410 }, false)).toBe(true);
    expect(retryMissing(policy, 3, false, { url: 'u', code: 404 }, false)).toBe(false);
  });

  test('does not retry other client errors or unknown failures', () => {
    expect(retryMissing(policy, 0, false, { url: 'u', code: 403 }, false)).toBe(false);
    expect(retryMissing(policy, 0, false, undefined, false)).toBe(false);
    expect(retryMissing(null, 0, false, { url: 'u', code: 404 }, false)).toBe(false);
  });
});

describe('the live settings', () => {
  test('every load policy retries missing files', () => {
    for (const name of ['manifestLoadPolicy', 'playlistLoadPolicy', 'fragLoadPolicy'] as const) {
      expect(LIVE_HLS_CONFIG[name]?.default.errorRetry?.shouldRetry).toBe(retryMissing);
    }
  });

  test('the live sync point is closer than the maximum latency', () => {
    expect(LIVE_HLS_CONFIG.liveSyncDuration).toBeLessThan(LIVE_HLS_CONFIG.liveMaxLatencyDuration!);
    // hls.js takes the hold-back in seconds or in target durations, not both.
    expect(LIVE_HLS_CONFIG.liveSyncDurationCount).toBeUndefined();
  });
});

test('rebuild delays back off exponentially up to 8 s', () => {
  expect([0, 1, 2, 3, 4, 10].map(rebuildDelayMs)).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
});
