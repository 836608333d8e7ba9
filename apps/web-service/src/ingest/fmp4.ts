/**
 * Reads the fragmented MP4 that the segmenter's ffmpeg writes to its stdout (`-f mp4 -movflags
 * empty_moov+default_base_moof+frag_every_frame`): an init segment (ftyp + moov), then one
 * moof + mdat pair per frame. Only what the packager needs is parsed (ISO/IEC 14496-12): the video
 * track's timescale, and per fragment its decode time, duration and whether it starts on a sync
 * sample. The bytes themselves are passed on untouched.
 */

export interface InitSegment {
  /** ftyp + moov, as written. */
  readonly bytes: Buffer;
  /** Ticks per second of the (first) track, from its mdhd. */
  readonly timescale: number;
}

export interface Fragment {
  /** moof + mdat, as written. */
  readonly bytes: Buffer;
  /** tfdt baseMediaDecodeTime, in timescale ticks. */
  readonly decodeTime: number;
  /** Sum of the sample durations, in timescale ticks. */
  readonly duration: number;
  /** The first sample is a sync sample (a keyframe): a segment or an INDEPENDENT part may start here. */
  readonly keyframe: boolean;
  readonly sampleCount: number;
  /**
   * Where in `bytes` the duration of its one sample is written (tfhd's default_sample_duration, or
   * trun's sample_duration); undefined when it cannot be rewritten in place (several samples, or a
   * duration from the init segment's trex).
   */
  readonly durationOffset?: number;
}

export class Fmp4FormatError extends Error {
  override name = 'Fmp4FormatError';
}

/** Boxes larger than this are refused: one frame at camera bitrates is a few hundred kB at most. */
export const MAX_BOX_BYTES = 16 * 1024 * 1024;

export interface Box {
  readonly type: string;
  /** Offset of the payload (after the header) within `data`. */
  readonly start: number;
  readonly end: number;
}

/** The boxes inside `data[start, end)`; throws on a size that does not fit. */
export function* boxes(data: Buffer, start = 0, end = data.length): Generator<Box> {
  let offset = start;
  while (offset + 8 <= end) {
    let size = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    let header = 8;
    if (size === 1) {
      if (offset + 16 > end) throw new Fmp4FormatError(`truncated 64-bit size of box ${type}`);
      size = Number(data.readBigUInt64BE(offset + 8));
      header = 16;
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < header || offset + size > end) throw new Fmp4FormatError(`box ${type} overruns its parent`);
    yield { type, start: offset + header, end: offset + size };
    offset += size;
  }
}

export function child(data: Buffer, parent: Box, type: string): Box | undefined {
  for (const box of boxes(data, parent.start, parent.end)) if (box.type === type) return box;
  return undefined;
}

export function path(data: Buffer, parent: Box, ...types: string[]): Box | undefined {
  let box: Box | undefined = parent;
  for (const type of types) {
    box = box && child(data, box, type);
  }
  return box;
}

/** A field of `box` at `at`, checked to lie inside it: a short box is bad input, not a RangeError. */
function u32(data: Buffer, box: Box, at: number): number {
  if (at + 4 > box.end) throw new Fmp4FormatError(`box ${box.type} is too short for its fields`);
  return data.readUInt32BE(at);
}

function u64(data: Buffer, box: Box, at: number): number {
  if (at + 8 > box.end) throw new Fmp4FormatError(`box ${box.type} is too short for its fields`);
  return Number(data.readBigUInt64BE(at));
}

/** ISO BMFF sample flags: sample_is_non_sync_sample. */
const NON_SYNC = 0x00010000;

interface TrackDefaults {
  readonly duration: number;
  readonly flags: number;
}

function parseInit(bytes: Buffer): { timescale: number; defaults: TrackDefaults } {
  let moov: Box | undefined;
  for (const box of boxes(bytes)) if (box.type === 'moov') moov = box;
  if (!moov) throw new Fmp4FormatError('init segment without moov');
  const mdhd = path(bytes, moov, 'trak', 'mdia', 'mdhd');
  if (!mdhd) throw new Fmp4FormatError('moov without trak/mdia/mdhd');
  const version = u32(bytes, mdhd, mdhd.start) >>> 24;
  const timescale = u32(bytes, mdhd, mdhd.start + (version === 1 ? 20 : 12));
  if (timescale === 0) throw new Fmp4FormatError('mdhd timescale is 0');
  const trex = path(bytes, moov, 'mvex', 'trex');
  // trex: version/flags, track_ID, default_sample_description_index, duration, size, flags
  const defaults = trex
    ? { duration: u32(bytes, trex, trex.start + 12), flags: u32(bytes, trex, trex.start + 20) }
    : { duration: 0, flags: 0 };
  return { timescale, defaults };
}

function parseMoof(data: Buffer, moof: Box, trex: TrackDefaults): Omit<Fragment, 'bytes'> {
  const traf = child(data, moof, 'traf');
  const tfhd = traf && child(data, traf, 'tfhd');
  const trun = traf && child(data, traf, 'trun');
  if (!traf || !tfhd || !trun) throw new Fmp4FormatError('moof without traf/tfhd/trun');

  // tfhd: optional fields follow track_ID in flag order.
  const tfhdFlags = u32(data, tfhd, tfhd.start) & 0xffffff;
  let at = tfhd.start + 8;
  if (tfhdFlags & 0x01) at += 8; // base_data_offset
  if (tfhdFlags & 0x02) at += 4; // sample_description_index
  let defaultDuration = trex.duration;
  let defaultFlags = trex.flags;
  let defaultDurationAt: number | undefined;
  if (tfhdFlags & 0x08) {
    defaultDuration = u32(data, tfhd, at);
    defaultDurationAt = at;
    at += 4;
  }
  if (tfhdFlags & 0x10) at += 4; // default_sample_size
  if (tfhdFlags & 0x20) defaultFlags = u32(data, tfhd, at);

  const tfdt = child(data, traf, 'tfdt');
  let decodeTime = 0;
  if (tfdt) {
    decodeTime =
      u32(data, tfdt, tfdt.start) >>> 24 === 1
        ? u64(data, tfdt, tfdt.start + 4)
        : u32(data, tfdt, tfdt.start + 4);
  }

  const trunFlags = u32(data, trun, trun.start) & 0xffffff;
  const sampleCount = u32(data, trun, trun.start + 4);
  at = trun.start + 8;
  if (trunFlags & 0x001) at += 4; // data_offset
  let firstFlags: number | undefined;
  if (trunFlags & 0x004) {
    firstFlags = u32(data, trun, at);
    at += 4;
  }
  const perSample =
    (trunFlags & 0x100 ? 4 : 0) +
    (trunFlags & 0x200 ? 4 : 0) +
    (trunFlags & 0x400 ? 4 : 0) +
    (trunFlags & 0x800 ? 4 : 0);
  if (at + perSample * sampleCount > trun.end) throw new Fmp4FormatError('trun overruns its box');
  // Without per-sample fields the box does not bound sample_count: a corrupt one (up to 2^32) must
  // not become a loop that holds the event loop for minutes.
  let duration = perSample === 0 ? sampleCount * defaultDuration : 0;
  let flagsOfFirst = firstFlags ?? defaultFlags;
  const durationOffset = sampleCount !== 1 ? undefined : trunFlags & 0x100 ? at : defaultDurationAt;
  for (let i = 0; perSample > 0 && i < sampleCount; i += 1) {
    let field = at + i * perSample;
    if (trunFlags & 0x100) {
      duration += data.readUInt32BE(field);
      field += 4;
    } else {
      duration += defaultDuration;
    }
    if (trunFlags & 0x200) field += 4;
    if (i === 0 && firstFlags === undefined && trunFlags & 0x400) flagsOfFirst = data.readUInt32BE(field);
  }
  return {
    decodeTime,
    duration,
    keyframe: (flagsOfFirst & NON_SYNC) === 0,
    sampleCount,
    ...(durationOffset !== undefined && { durationOffset }),
  };
}

/**
 * A copy of a one-sample fragment that lasts `ticks` instead; undefined when its duration cannot be
 * rewritten in place (see Fragment.durationOffset).
 */
export function withSampleDuration(fragment: Fragment, ticks: number): Fragment | undefined {
  if (fragment.durationOffset === undefined) return undefined;
  const bytes = Buffer.from(fragment.bytes);
  bytes.writeUInt32BE(ticks, fragment.durationOffset);
  return { ...fragment, bytes, duration: ticks };
}

/**
 * Push bytes in as they arrive; get the init segment once, then fragments. Top-level boxes other
 * than ftyp, moov, moof and mdat (free, styp, sidx, mfra) are skipped.
 */
export class Fmp4Reader {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #initParts: Buffer[] = [];
  #trex: TrackDefaults | undefined;
  #moof: Buffer | undefined;
  readonly #onInit: (init: InitSegment) => void;
  readonly #onFragment: (fragment: Fragment) => void;

  constructor(handlers: { onInit: (init: InitSegment) => void; onFragment: (fragment: Fragment) => void }) {
    this.#onInit = handlers.onInit;
    this.#onFragment = handlers.onFragment;
  }

  /** Throws Fmp4FormatError on a stream that is not fragmented MP4; the reader is unusable then. */
  push(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    while (this.#pendingBytes >= 8) {
      const head = this.#peek(16);
      let size = head.readUInt32BE(0);
      if (size === 1 && head.length >= 16) size = Number(head.readBigUInt64BE(8));
      else if (size === 1) return;
      if (size < 8 || size > MAX_BOX_BYTES) {
        throw new Fmp4FormatError(`unexpected box size ${size} (${head.toString('latin1', 4, 8)})`);
      }
      if (this.#pendingBytes < size) return;
      this.#box(this.#take(size));
    }
  }

  #peek(bytes: number): Buffer {
    if (this.#pending[0]!.length >= bytes || this.#pending.length === 1) return this.#pending[0]!;
    const joined = Buffer.concat(this.#pending);
    this.#pending = [joined];
    return joined;
  }

  #take(size: number): Buffer {
    const joined = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    const box = joined.subarray(0, size);
    const rest = joined.subarray(size);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingBytes = rest.length;
    // A view: what is kept (init, fragment) is made by Buffer.concat in #box, so the stores never
    // pin ffmpeg's larger read buffers, and each frame is copied once here rather than twice.
    return box;
  }

  #box(box: Buffer): void {
    const type = box.toString('latin1', 4, 8);
    if (type === 'ftyp') {
      this.#initParts = [box];
    } else if (type === 'moov') {
      const bytes = Buffer.concat([...this.#initParts, box]);
      this.#initParts = [];
      const { timescale, defaults } = parseInit(bytes);
      this.#trex = defaults;
      this.#onInit({ bytes, timescale });
    } else if (type === 'moof') {
      if (!this.#trex) throw new Fmp4FormatError('moof before moov');
      this.#moof = box;
    } else if (type === 'mdat') {
      const moof = this.#moof;
      this.#moof = undefined;
      if (!moof || !this.#trex) throw new Fmp4FormatError('mdat without a moof before it');
      const info = parseMoof(moof, { type: 'moof', start: 8, end: moof.length }, this.#trex);
      this.#onFragment({ ...info, bytes: Buffer.concat([moof, box]) });
    }
  }
}
