/**
 * The pictures outputs' pure parts: the JPEG splitter, the GOP buffer, `?width=`, and how a reader
 * is judged busy or stalled (with a stand-in response: the kernel's buffer cannot be filled on cue).
 */
import { describe, expect, test } from 'vitest';
import type { ServerResponse } from 'node:http';
import { GopBuffer } from '../src/outputs/pictures/gop.js';
import { JpegSplitter } from '../src/outputs/pictures/jpeg-splitter.js';
import { HttpReader } from '../src/outputs/pictures/reader.js';
import { parseWidth } from '../src/routes/pictures.js';
import { isServiceError } from '../src/errors.js';
import type { MediaFrame, MediaInit } from '../src/outputs/output.js';

const jpeg = (body: number[]) => Buffer.from([0xff, 0xd8, ...body, 0xff, 0xd9]);

describe('JpegSplitter', () => {
  test('whole pictures, however the bytes are cut; garbage between them is skipped', () => {
    const a = jpeg([1, 2, 0xff, 0x00, 3]);
    const b = jpeg([4]);
    const stream = Buffer.concat([Buffer.from([9, 9]), a, b, jpeg([5]).subarray(0, 3)]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const splitter = new JpegSplitter();
      const pictures = [...splitter.push(stream.subarray(0, cut)), ...splitter.push(stream.subarray(cut))];
      expect(pictures).toEqual([a, b]);
    }
  });

  test('an endless picture is dropped, not held', () => {
    const splitter = new JpegSplitter({ maxBytes: 10 });
    expect(splitter.push(Buffer.from([0xff, 0xd8, ...Array(20).fill(1)]))).toEqual([]);
    expect(splitter.push(jpeg([7]))).toEqual([jpeg([7])]);
  });
});

describe('GopBuffer', () => {
  const init = { bytes: Buffer.from('init'), streamId: 's', restart: false } as unknown as MediaInit;
  const frame = (keyframe: boolean, size = 4) =>
    ({ bytes: Buffer.alloc(size, keyframe ? 1 : 2), keyframe }) as unknown as MediaFrame;

  test('holds the init and the frames since the newest keyframe', () => {
    const gop = new GopBuffer();
    expect(gop.media()).toBeUndefined();
    gop.init(init);
    gop.frame(frame(false), new Date()); // no keyframe yet: useless
    expect(gop.media()).toBeUndefined();
    gop.frame(frame(true), new Date());
    gop.frame(frame(false), new Date());
    expect(gop.media()?.frames).toBe(2);
    const version = gop.version;
    gop.frame(frame(true), new Date(5));
    expect(gop.media()).toMatchObject({ frames: 1 });
    expect(gop.media()!.chunks[0]).toBe(init.bytes);
    expect(gop.version).toBeGreaterThan(version);
    expect(gop.lastFrameAt).toEqual(new Date(5));
  });

  test('a GOP over the limit keeps its head (it still decodes) until the next keyframe', () => {
    const gop = new GopBuffer({ maxBytes: 10 });
    gop.init(init);
    gop.frame(frame(true), new Date());
    gop.frame(frame(false), new Date());
    gop.frame(frame(false), new Date());
    expect(gop.media()?.frames).toBe(2);
    gop.frame(frame(true), new Date());
    expect(gop.media()?.frames).toBe(1);
  });
});

describe('?width=', () => {
  test('absent, or 16 to 7680 whole pixels', () => {
    expect(parseWidth({})).toBeUndefined();
    expect(parseWidth({ width: '320' })).toBe(320);
    expect(parseWidth({ width: '16' })).toBe(16);
    for (const width of ['15', '7681', 'abc', '1e3', '', ' 320', '320px', ['320', '640']]) {
      expect(() => parseWidth({ width })).toThrow(
        expect.objectContaining({ code: 'WEB_ERR_SNAPSHOT_WIDTH' }),
      );
    }
    let error: unknown;
    try {
      parseWidth({ height: '5' });
    } catch (err) {
      error = err;
    }
    expect(isServiceError(error, 'WEB_ERR_BAD_REQUEST')).toBe(true);
  });
});

describe('HttpReader', () => {
  /** Stand-in for a ServerResponse: its writableLength is what the test says the kernel did not take. */
  function fakeResponse() {
    const res = { writableLength: 0, destroyed: false, writableEnded: false, write: () => true };
    return res;
  }

  test('busy while bytes wait; stalled once nothing has gone for stallMs', () => {
    let now = 0;
    const res = fakeResponse();
    const reader = new HttpReader(res as unknown as ServerResponse, { stallMs: 1000, now: () => now });
    reader.write(Buffer.alloc(100));
    res.writableLength = 100;
    expect(reader.busy).toBe(true);
    now = 900;
    expect(reader.stalled).toBe(false);
    res.writableLength = 40; // it reads, slowly
    now = 1500;
    expect(reader.stalled).toBe(false);
    now = 2600; // nothing more for 1.1 s
    expect(reader.stalled).toBe(true);
    res.writableLength = 0;
    expect(reader.stalled).toBe(false);
  });
});
