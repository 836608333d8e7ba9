import { describe, expect, test } from 'vitest';
import { pageMode } from '../src/stats/page-mode';
import {
  addSample,
  bufferAhead,
  createStats,
  formatStats,
  median,
  mediaBitrate,
  recentLatency,
} from '../src/stats/reduce';
import type { LatencySample } from '../src/stats/types';

const BASE = 'http://127.0.0.1:8080/';

describe('pageMode', () => {
  test('the normal page by default', () => {
    expect(pageMode('', BASE)).toEqual({ stats: false, src: null, lowLatency: false });
    expect(pageMode('?stats=0', BASE)).toEqual({ stats: false, src: null, lowLatency: false });
  });

  test('?stats=1 measures', () => {
    expect(pageMode('?stats=1', BASE)).toEqual({ stats: true, src: null, lowLatency: false });
  });

  test('?src= plays that URL, any origin, and measures', () => {
    const src = 'http://10.0.0.5:8888/live/stream.m3u8?token=a&b=1';
    expect(pageMode(`?src=${encodeURIComponent(src)}`, BASE)).toEqual({
      stats: true,
      src,
      lowLatency: false,
    });
    expect(pageMode('?stats=1&src=%2Fhls%2Fstream.m3u8', BASE)).toEqual({
      stats: true,
      src: 'http://127.0.0.1:8080/hls/stream.m3u8',
      lowLatency: false,
    });
    expect(pageMode('?src=%2Fhls%2Fstream.m3u8&ll=1', BASE).lowLatency).toBe(true);
  });

  test('a src that is not an http(s) URL is ignored', () => {
    expect(pageMode('?src=javascript%3Aalert(1)', BASE).src).toBeNull();
    expect(pageMode('?src=', BASE).src).toBeNull();
    expect(pageMode('?src=http%3A%2F%2F%5B', BASE).src).toBeNull();
  });
});

describe('the sample ring', () => {
  test('keeps the last `limit` samples, oldest first', () => {
    const samples: LatencySample[] = [];
    for (let i = 0; i < 12; i++) addSample(samples, { at: i, latencyMs: 100 + i }, 5);
    expect(samples.map((s) => s.at)).toEqual([7, 8, 9, 10, 11]);
  });

  test('holds 20000 by default', () => {
    const samples: LatencySample[] = [];
    for (let i = 0; i < 20_050; i++) addSample(samples, { at: i, latencyMs: 1 });
    expect(samples).toHaveLength(20_000);
    expect(samples[0]!.at).toBe(50);
  });
});

describe('reductions', () => {
  test('median', () => {
    expect(median([])).toBeUndefined();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  test('recent latency: the median of the last second of samples only', () => {
    const samples = [
      { at: 1_000, latencyMs: 9_000 },
      { at: 9_100, latencyMs: 1_500 },
      { at: 9_500, latencyMs: 1_700 },
      { at: 10_000, latencyMs: 1_600 },
    ];
    expect(recentLatency(samples, 10_000)).toBe(1_600);
    expect(recentLatency(samples, 20_000)).toBeUndefined();
  });

  test('buffer ahead of the playhead, in the range that holds it', () => {
    expect(bufferAhead([[0, 4]], 2.5)).toBe(1.5);
    expect(
      bufferAhead(
        [
          [0, 1],
          [2, 6],
        ],
        3,
      ),
    ).toBe(3);
    expect(bufferAhead([[0, 1]], 1.5)).toBe(0);
    expect(bufferAhead([], 0)).toBe(0);
  });

  test('media bitrate from the last loaded segments', () => {
    expect(mediaBitrate([])).toBeUndefined();
    expect(
      mediaBitrate([
        { bytes: 250_000, seconds: 1 },
        { bytes: 250_000, seconds: 1 },
      ]),
    ).toBe(2_000_000);
  });
});

describe('formatStats', () => {
  test('every figure, in words a person reads at a glance', () => {
    const stats = {
      ...createStats(),
      samples: [
        { at: 9_600, latencyMs: 1_234 },
        { at: 9_633, latencyMs: 1_240 },
        { at: 9_666, latencyMs: 1_250 },
      ],
      stalls: 2,
      stallMs: 1_450,
      unreadFrames: 3,
      hlsLatency: 2.1,
      bufferSeconds: 0.987,
      bitrate: 1_980_000,
      droppedFrames: 1,
      totalFrames: 900,
    };
    expect(formatStats(stats, 10_000)).toEqual([
      { label: 'Glass to glass', value: '1.24 s' },
      { label: 'hls.js latency', value: '2.10 s' },
      { label: 'Buffer', value: '0.99 s' },
      { label: 'Bitrate', value: '1.98 Mb/s' },
      { label: 'Dropped', value: '1 of 900' },
      { label: 'Stalls', value: '2 (1.4 s)' },
      { label: 'Unread stamps', value: '3' },
    ]);
  });

  test('nothing measured yet: dashes, not zeros', () => {
    expect(formatStats(createStats(), 0).map((row) => row.value)).toEqual([
      '–',
      '–',
      '–',
      '–',
      '–',
      '0 (0.0 s)',
      '0',
    ]);
  });

  test('low bitrates in kb/s', () => {
    expect(formatStats({ ...createStats(), bitrate: 640_000 }, 0)[3]!.value).toBe('640 kb/s');
  });

  test('WebRTC: the transport and getStats figures instead of hls.js’s', () => {
    const stats = {
      ...createStats(),
      transport: 'webrtc' as const,
      samples: [{ at: 9_900, latencyMs: 120, transport: 'webrtc' as const }],
      webrtc: { jitterBufferMs: 41.6, framesDecoded: 300, framesDropped: 2, packetsLost: 0 },
    };
    expect(formatStats(stats, 10_000)).toEqual([
      { label: 'Transport', value: 'WebRTC' },
      { label: 'Glass to glass', value: '0.12 s' },
      { label: 'Jitter buffer', value: '42 ms' },
      { label: 'Decoded', value: '300' },
      { label: 'Dropped', value: '2' },
      { label: 'Packets lost', value: '0' },
      { label: 'Stalls', value: '0 (0.0 s)' },
      { label: 'Unread stamps', value: '0' },
    ]);
    // Before getStats answered: dashes.
    const early = formatStats({ ...createStats(), transport: 'webrtc' }, 0);
    expect(early.find((row) => row.label === 'Jitter buffer')?.value).toBe('–');
  });

  test('HLS chosen by the page: the transport is named above hls.js’s figures', () => {
    const rows = formatStats({ ...createStats(), transport: 'hls' }, 0);
    expect(rows[0]).toEqual({ label: 'Transport', value: 'HLS' });
    expect(rows[2]!.label).toBe('hls.js latency');
  });
});
