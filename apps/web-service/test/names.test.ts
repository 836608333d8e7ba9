import { describe, expect, test } from 'vitest';
import {
  isOwnedName,
  isSegmentOf,
  isServableName,
  newStreamId,
  segmentTemplate,
} from '../src/outputs/names.js';

describe('HLS file names', () => {
  test('stream ids are unique, and sort by time', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newStreamId()));
    expect(ids.size).toBe(1000);
    expect(newStreamId(1_000_000_000_000) < newStreamId(2_000_000_000_000)).toBe(true);
  });

  test('segments of a run match the template ffmpeg is given', () => {
    const id = newStreamId();
    expect(segmentTemplate(id)).toBe(`${id}-%05d.ts`);
    const name = `${id}-00042.ts`;
    expect(isServableName(name)).toBe(true);
    expect(isSegmentOf(id, name)).toBe(true);
    expect(isSegmentOf(newStreamId(0), name)).toBe(false);
  });

  test.each([
    'stream.m3u8.tmp',
    'mwr2xq4f-0c41f1fc-00001.ts.tmp',
    '.hidden',
    '../stream.m3u8',
    'sub/stream.m3u8',
    'STREAM.M3U8',
    'index.html',
    'mwr2xq4f-0c41f1fc-1.ts',
    'mwr2xq4f-0c41f1fc-00001.ts/../x',
    '',
  ])('%j is never served', (name) => {
    expect(isServableName(name)).toBe(false);
  });

  test('the service owns its temp files but nothing else', () => {
    expect(isOwnedName('stream.m3u8')).toBe(true);
    expect(isOwnedName('stream.m3u8.tmp')).toBe(true);
    expect(isOwnedName('mwr2xq4f-0c41f1fc-00001.ts.tmp')).toBe(true);
    expect(isOwnedName('notes.txt')).toBe(false);
    expect(isOwnedName('video.ts')).toBe(false);
  });
});
