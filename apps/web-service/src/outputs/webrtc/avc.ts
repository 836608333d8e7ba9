/**
 * H.264 as the fMP4 carries it (ISO/IEC 14496-15): the init segment's avcC record gives the SPS, the
 * PPS and the size of the length field before each NAL unit; each fragment's mdat holds one frame's
 * NAL units, length-prefixed (AVCC). Only views of the shared bytes are returned: never written.
 */
import { boxes, child, Fmp4FormatError, path } from '../../ingest/fmp4.js';

export interface AvcConfig {
  /** Sequence parameter sets, NAL units without a length prefix. */
  readonly sps: readonly Buffer[];
  /** Picture parameter sets. */
  readonly pps: readonly Buffer[];
  /** Bytes of the length field before each NAL unit in a sample (1, 2 or 4). */
  readonly lengthSize: number;
  /** profile_idc, constraint flags and level_idc as SDP's profile-level-id writes them (`42e01f`). */
  readonly profileLevelId: string;
}

/** NAL unit types (ITU-T H.264 table 7-1) this output looks at. */
export const NAL = { idr: 5, sei: 6, sps: 7, pps: 8, aud: 9, filler: 12 } as const;

export const nalType = (nal: Buffer): number => nal[0]! & 0x1f;

/** The avcC record of the init segment's first video track; throws Fmp4FormatError if it has none. */
export function parseAvcConfig(init: Buffer): AvcConfig {
  const moov = [...boxes(init)].find((box) => box.type === 'moov');
  const stsd = moov && path(init, moov, 'trak', 'mdia', 'minf', 'stbl', 'stsd');
  if (!stsd) throw new Fmp4FormatError('no moov/trak/mdia/minf/stbl/stsd in the init segment');
  // stsd: version/flags (4), entry_count (4), then sample entries; avc1/avc3: 78 bytes of
  // VisualSampleEntry fields before its child boxes.
  const entry = stsd.start + 8;
  if (entry + 8 > stsd.end) throw new Fmp4FormatError('stsd without a sample entry');
  const format = init.toString('latin1', entry + 4, entry + 8);
  if (format !== 'avc1' && format !== 'avc3') throw new Fmp4FormatError(`not H.264 (${format})`);
  const entryEnd = Math.min(entry + init.readUInt32BE(entry), stsd.end);
  const avcC = child(init, { type: format, start: entry + 8 + 78, end: entryEnd }, 'avcC');
  if (!avcC) throw new Fmp4FormatError(`${format} without avcC`);
  return parseAvcC(init.subarray(avcC.start, avcC.end));
}

/** An AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1). */
export function parseAvcC(record: Buffer): AvcConfig {
  const short = () => new Fmp4FormatError('avcC is too short for its fields');
  if (record.length < 7 || record[0] !== 1) throw new Fmp4FormatError('avcC is not version 1');
  const lengthSize = (record[4]! & 0x03) + 1;
  if (lengthSize === 3) throw new Fmp4FormatError('avcC length size 3 is not allowed');
  let at = 6; // after numOfSequenceParameterSets (byte 5)
  const sets = (count: number): Buffer[] => {
    const out: Buffer[] = [];
    for (let i = 0; i < count; i += 1) {
      if (at + 2 > record.length) throw short();
      const size = record.readUInt16BE(at);
      at += 2;
      if (size === 0 || at + size > record.length) throw short();
      out.push(record.subarray(at, at + size));
      at += size;
    }
    return out;
  };
  const sps = sets(record[5]! & 0x1f);
  if (at >= record.length) throw short();
  const ppsCount = record[at]!;
  at += 1;
  const pps = sets(ppsCount);
  if (sps.length === 0 || pps.length === 0) throw new Fmp4FormatError('avcC without SPS or PPS');
  const profileLevelId = sps[0]!.subarray(1, 4).toString('hex');
  return { sps, pps, lengthSize, profileLevelId };
}

/**
 * The NAL units of a one-sample fragment (moof + mdat): views of its mdat, length prefixes removed.
 * Throws Fmp4FormatError when a length overruns the mdat.
 */
export function frameNalUnits(fragment: Buffer, lengthSize: number): Buffer[] {
  const mdat = [...boxes(fragment)].find((box) => box.type === 'mdat');
  if (!mdat) throw new Fmp4FormatError('fragment without mdat');
  const nals: Buffer[] = [];
  let at = mdat.start;
  while (at + lengthSize <= mdat.end) {
    const size = fragment.readUIntBE(at, lengthSize);
    at += lengthSize;
    if (at + size > mdat.end) throw new Fmp4FormatError('a NAL unit overruns the mdat');
    if (size > 0) nals.push(fragment.subarray(at, at + size));
    at += size;
  }
  return nals;
}
