import { describe, expect, test } from 'vitest';
import {
  isOwnedName,
  isServableName,
  initName,
  newStreamId,
  partName,
  segmentName,
} from '../src/outputs/names.js';

describe('HLS file names', () => {
  test('stream ids are unique, and sort by time', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newStreamId()));
    expect(ids.size).toBe(1000);
    expect(newStreamId(1_000_000_000_000) < newStreamId(2_000_000_000_000)).toBe(true);
  });

  test('plain HLS serves a run’s segments and init segment from disk, never LL-HLS parts', () => {
    const id = newStreamId();
    const name = segmentName(id, 42);
    expect(name).toBe(`${id}-00042.m4s`);
    expect(isServableName(name)).toBe(true);
    expect(isServableName(initName(id))).toBe(true);
    expect(isServableName(partName(id, 42, 1))).toBe(false);
  });

  test.each([
    'stream.m3u8.tmp',
    'mwr2xq4f-0c41f1fc-00001.m4s.tmp',
    'mwr2xq4f-0c41f1fc-00001.ts',
    '.hidden',
    '../stream.m3u8',
    'sub/stream.m3u8',
    'STREAM.M3U8',
    'index.html',
    'mwr2xq4f-0c41f1fc-1.m4s',
    'mwr2xq4f-0c41f1fc-00001.m4s/../x',
    '',
  ])('%j is never served', (name) => {
    expect(isServableName(name)).toBe(false);
  });

  test('the service owns its temp files but nothing else', () => {
    expect(isOwnedName('stream.m3u8')).toBe(true);
    expect(isOwnedName('stream.m3u8.tmp')).toBe(true);
    expect(isOwnedName('mwr2xq4f-0c41f1fc-00001.m4s.tmp')).toBe(true);
    expect(isOwnedName('mwr2xq4f-0c41f1fc-init.mp4.tmp')).toBe(true);
    expect(isOwnedName('notes.txt')).toBe(false);
    expect(isOwnedName('video.ts')).toBe(false);
  });
});
