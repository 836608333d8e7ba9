import { describe, expect, test } from 'vitest';
import { bufferedAhead, holdLiveEdge, MAX_CATCH_UP_RATE, SEEK_ABOVE_S } from '../src/player/live-edge';

const ranges = (...pairs: [number, number][]) => ({
  length: pairs.length,
  start: (i: number) => pairs[i]![0],
  end: (i: number) => pairs[i]![1],
});

describe('holding the LL-HLS live edge', () => {
  test('on target, or without figures: normal speed', () => {
    expect(holdLiveEdge({ latency: 0.65, target: 0.6, bufferAhead: 0.5 })).toEqual({ rate: 1 });
    expect(holdLiveEdge({ latency: null, target: 0.6, bufferAhead: 0.5 })).toEqual({ rate: 1 });
    expect(holdLiveEdge({ latency: 0.9, target: null, bufferAhead: 0.5 })).toEqual({ rate: 1 });
    expect(holdLiveEdge({ latency: Infinity, target: 0.6, bufferAhead: 0.5 })).toEqual({ rate: 1 });
  });

  test('late: faster in proportion, never above the cap', () => {
    expect(holdLiveEdge({ latency: 0.8, target: 0.6, bufferAhead: 0.7 })).toEqual({ rate: 1.1 });
    expect(holdLiveEdge({ latency: 2.0, target: 0.6, bufferAhead: 1.9 })).toEqual({
      rate: MAX_CATCH_UP_RATE,
    });
  });

  test('late but nearly out of buffer: no faster, or it stalls', () => {
    expect(holdLiveEdge({ latency: 0.9, target: 0.6, bufferAhead: 0.15 })).toEqual({ rate: 1 });
  });

  test('far behind with the media buffered: seek by how late it is', () => {
    const late = SEEK_ABOVE_S + 1;
    const action = holdLiveEdge({ latency: 0.6 + late, target: 0.6, bufferAhead: late + 0.5 });
    expect('seekBy' in action && action.seekBy).toBeCloseTo(late, 6);
    // Not buffered that far: catch up by speed instead.
    expect(holdLiveEdge({ latency: 0.6 + late, target: 0.6, bufferAhead: 1 })).toEqual({
      rate: MAX_CATCH_UP_RATE,
    });
  });

  test('bufferedAhead: the range that holds the playhead', () => {
    expect(bufferedAhead({ buffered: ranges([0, 2], [3, 5]) as TimeRanges, currentTime: 1.5 })).toBe(0.5);
    expect(bufferedAhead({ buffered: ranges([0, 2], [3, 5]) as TimeRanges, currentTime: 2.5 })).toBe(0);
    expect(bufferedAhead({ buffered: ranges() as TimeRanges, currentTime: 0 })).toBe(0);
  });
});
