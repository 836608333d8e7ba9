/**
 * The fMP4 reader, fed what ffmpeg really writes (as the segmenter runs it): the same fragments
 * however the bytes are chunked, a keyframe where the encoder put one, durations that add up; and
 * bad input refused with Fmp4FormatError, never another exception.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  Fmp4FormatError,
  Fmp4Reader,
  MAX_BOX_BYTES,
  type Fragment,
  type InitSegment,
} from '../src/ingest/fmp4.js';
import { encodeFmp4, SEGMENTER_MOVFLAGS, splitFmp4, topLevelBoxes } from './helpers/fmp4-media.js';
import { haveTools } from '../../../test/helpers/tools.js';

const ready = haveTools('ffmpeg');

/** Feeds `chunks` to a fresh reader; what it reported, or the error it threw. */
function read(chunks: Buffer[]): { inits: InitSegment[]; fragments: Fragment[]; error?: unknown } {
  const inits: InitSegment[] = [];
  const fragments: Fragment[] = [];
  const reader = new Fmp4Reader({ onInit: (init) => inits.push(init), onFragment: (f) => fragments.push(f) });
  try {
    for (const chunk of chunks) reader.push(chunk);
  } catch (error) {
    return { inits, fragments, error };
  }
  return { inits, fragments };
}

/** `data` cut at the given offsets. */
function cut(data: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const size of sizes) {
    if (offset >= data.length) break;
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  if (offset < data.length) chunks.push(data.subarray(offset));
  return chunks;
}

/** An ISO BMFF box. */
function box(type: string, ...children: Buffer[]): Buffer {
  const body = Buffer.concat(children);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

describe.runIf(ready)('Fmp4Reader on ffmpeg’s fMP4', () => {
  let stream: Buffer; // 4 s at 30 fps, a keyframe every 30 frames, as the segmenter writes it
  let withTrailer: Buffer; // the same without skip_trailer: an mfra box at the end
  beforeAll(async () => {
    [stream, withTrailer] = await Promise.all([
      encodeFmp4({ seconds: 4 }),
      encodeFmp4({ seconds: 4, movflags: 'empty_moov+default_base_moof+frag_every_frame' }),
    ]);
  });

  test('one init segment, then one fragment per frame: keyframes every 30th, durations that add up', () => {
    const { inits, fragments, error } = read([stream]);
    expect(error).toBeUndefined();
    expect(inits).toHaveLength(1);
    const [init] = inits;
    expect(init!.timescale).toBeGreaterThan(0);
    // The init segment is ftyp + moov, byte for byte.
    const { init: expectedInit, fragments: expectedFragments } = splitFmp4(stream);
    expect(init!.bytes.equals(expectedInit)).toBe(true);

    expect(fragments).toHaveLength(120);
    expect(fragments.map((f) => f.bytes.toString('hex'))).toEqual(
      expectedFragments.map((f) => f.toString('hex')),
    );
    expect(fragments.every((f) => f.sampleCount === 1)).toBe(true);
    const keyframes = fragments.flatMap((f, index) => (f.keyframe ? [index] : []));
    expect(keyframes).toEqual([0, 30, 60, 90]);

    // Each fragment starts where the one before ended; together they last the 4 s encoded.
    const frame = init!.timescale / 30;
    fragments.forEach((f, index) => {
      expect(f.decodeTime).toBe(
        index === 0 ? 0 : fragments[index - 1]!.decodeTime + fragments[index - 1]!.duration,
      );
      expect(f.duration).toBe(frame);
    });
    const total = fragments.reduce((sum, f) => sum + f.duration, 0);
    expect(total / init!.timescale).toBeCloseTo(4, 6);
  });

  test('chunked at random, byte by byte or in one piece: the same fragments', () => {
    const whole = read([stream]);
    const fingerprint = (result: ReturnType<typeof read>) => ({
      error: result.error,
      inits: result.inits.map((i) => [i.timescale, i.bytes.toString('base64')]),
      fragments: result.fragments.map((f) => [
        f.decodeTime,
        f.duration,
        f.keyframe,
        f.bytes.toString('base64'),
      ]),
    });
    const expected = fingerprint(whole);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 400 }),
        (sizes) => {
          expect(fingerprint(read(cut(stream, sizes)))).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
    // The smallest chunks there are: box headers arrive a byte at a time.
    const head = stream.subarray(0, 40_000);
    const bytewise = read([...head].map((byte) => Buffer.from([byte])));
    const inOne = read([head]);
    expect(bytewise.error).toBeUndefined();
    expect(fingerprint(bytewise)).toEqual(fingerprint(inOne));
  });

  test('boxes other than ftyp, moov, moof and mdat are skipped: the trailer (mfra) changes nothing', () => {
    expect(topLevelBoxes(withTrailer).map((b) => b.type)).toContain('mfra');
    const plain = read([stream]);
    const trailed = read([withTrailer]);
    expect(trailed.error).toBeUndefined();
    expect(trailed.fragments.map((f) => [f.decodeTime, f.duration, f.keyframe])).toEqual(
      plain.fragments.map((f) => [f.decodeTime, f.duration, f.keyframe]),
    );
    expect(SEGMENTER_MOVFLAGS).toContain('skip_trailer');
  });

  test('corrupted bytes: Fmp4FormatError or nothing, never another exception', () => {
    const head = stream.subarray(0, 60_000);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: head.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat({ max: head.length }),
        (changes, length) => {
          const copy = Buffer.from(head.subarray(0, length));
          for (const [at, value] of changes) if (at < copy.length) copy[at] = value;
          const { error } = read([copy]);
          if (error !== undefined) expect(error).toBeInstanceOf(Fmp4FormatError);
        },
      ),
      { numRuns: 2000 },
    );
  }, 30_000);
});

describe('Fmp4Reader on bad input', () => {
  const ftyp = box('ftyp', Buffer.from('isom\0\0\0\0', 'latin1'));
  const mdhd = Buffer.alloc(24);
  mdhd.writeUInt32BE(90_000, 12);
  const moov = box(
    'moov',
    box('trak', box('mdia', box('mdhd', mdhd))),
    box('mvex', box('trex', Buffer.alloc(24))),
  );
  const tfhd = Buffer.alloc(8);
  const trun = Buffer.alloc(8);

  test.each([
    ['MPEG-TS (what the camera sends)', Buffer.alloc(1316, 0x47)],
    ['text', Buffer.from('#EXTM3U\n#EXT-X-VERSION:6\n')],
    ['a box size below 8', Buffer.from([0, 0, 0, 4, 0x66, 0x72, 0x65, 0x65])],
    ['a box larger than MAX_BOX_BYTES', Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x6d, 0x64, 0x61, 0x74])],
    ['a moof before any moov', Buffer.concat([ftyp, box('moof', box('traf')), box('mdat')])],
    ['an mdat without a moof', Buffer.concat([ftyp, moov, box('mdat', Buffer.alloc(4))])],
    ['a moov without trak/mdia/mdhd', Buffer.concat([ftyp, box('moov', box('trak'))])],
    ['an mdhd cut short', Buffer.concat([ftyp, box('moov', box('trak', box('mdia', box('mdhd'))))])],
    [
      'a trex cut short',
      Buffer.concat([
        ftyp,
        box('moov', box('trak', box('mdia', box('mdhd', mdhd))), box('mvex', box('trex'))),
      ]),
    ],
    [
      'a timescale of 0',
      Buffer.concat([ftyp, box('moov', box('trak', box('mdia', box('mdhd', Buffer.alloc(24)))))]),
    ],
    [
      'a moof without a trun',
      Buffer.concat([ftyp, moov, box('moof', box('traf', box('tfhd', tfhd))), box('mdat')]),
    ],
    [
      'empty tfhd and trun',
      Buffer.concat([ftyp, moov, box('moof', box('traf', box('tfhd'), box('trun'))), box('mdat')]),
    ],
    [
      'a tfdt cut short',
      Buffer.concat([
        ftyp,
        moov,
        box('moof', box('traf', box('tfhd', tfhd), box('trun', trun), box('tfdt'))),
        box('mdat'),
      ]),
    ],
    [
      'a trun that claims more samples than it holds',
      (() => {
        const claims = Buffer.alloc(8);
        claims.writeUInt32BE(0x000100, 0); // sample_duration_present
        claims.writeUInt32BE(1000, 4);
        return Buffer.concat([
          ftyp,
          moov,
          box('moof', box('traf', box('tfhd', tfhd), box('trun', claims))),
          box('mdat'),
        ]);
      })(),
    ],
    [
      'a child box that overruns its parent',
      (() => {
        const traf = box('traf', box('tfhd', tfhd));
        traf.writeUInt32BE(traf.length + 100, 8); // the tfhd inside claims more than the traf holds
        return Buffer.concat([ftyp, moov, box('moof', traf), box('mdat')]);
      })(),
    ],
  ])('%s: Fmp4FormatError', (_name, data) => {
    const { error } = read([data]);
    expect(error).toBeInstanceOf(Fmp4FormatError);
    expect((error as Error).message).not.toBe('');
  });

  test('a trun claiming 2^32 - 1 samples without per-sample fields is read at once, not looped over', () => {
    const claims = Buffer.alloc(8);
    claims.writeUInt32BE(0xffffffff, 4); // sample_count, no per-sample fields: trex's defaults
    const trexWithDuration = Buffer.alloc(24);
    trexWithDuration.writeUInt32BE(3000, 12);
    const init = Buffer.concat([
      ftyp,
      box('moov', box('trak', box('mdia', box('mdhd', mdhd))), box('mvex', box('trex', trexWithDuration))),
    ]);
    const data = Buffer.concat([
      init,
      box('moof', box('traf', box('tfhd', tfhd), box('trun', claims))),
      box('mdat'),
    ]);
    const { fragments, error } = read([data]);
    expect(error).toBeUndefined();
    expect(fragments).toMatchObject([{ sampleCount: 0xffffffff, duration: 0xffffffff * 3000 }]);
  });

  test('MAX_BOX_BYTES bounds what one box may hold (a frame is far smaller)', () => {
    expect(MAX_BOX_BYTES).toBeGreaterThanOrEqual(4 * 1024 * 1024);
  });

  test('a well-formed minimal stream is read: the init segment, then a keyframe fragment', () => {
    const trunWithFlags = Buffer.alloc(16);
    trunWithFlags.writeUInt32BE(0x000300, 0); // duration and size per sample
    trunWithFlags.writeUInt32BE(1, 4);
    trunWithFlags.writeUInt32BE(3000, 8);
    trunWithFlags.writeUInt32BE(4, 12);
    const tfdt = Buffer.alloc(8);
    tfdt.writeUInt32BE(9000, 4);
    const data = Buffer.concat([
      ftyp,
      moov,
      box('moof', box('traf', box('tfhd', tfhd), box('tfdt', tfdt), box('trun', trunWithFlags))),
      box('mdat', Buffer.alloc(4)),
    ]);
    const { inits, fragments, error } = read([data]);
    expect(error).toBeUndefined();
    expect(inits.map((i) => i.timescale)).toEqual([90_000]);
    expect(fragments).toMatchObject([{ decodeTime: 9000, duration: 3000, keyframe: true, sampleCount: 1 }]);
  });
});
