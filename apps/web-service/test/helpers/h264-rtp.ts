/**
 * An outside judge of RFC 6184 payloads: werift's H.264 depacketizer (the receiving side's code,
 * not ours) turns them back into NAL units.
 */
import { H264RtpPayload, splitH264NalUnits } from 'werift';

/** The NAL units the payloads carry, in order, as werift's receiver reassembles them. */
export function depacketise(payloads: readonly Buffer[]): Buffer[] {
  const nals: Buffer[] = [];
  let fragment: Buffer | undefined;
  for (const payload of payloads) {
    const h264 = H264RtpPayload.deSerialize(payload, fragment);
    fragment = h264.fragment;
    if (h264.payload?.length) nals.push(...splitH264NalUnits(h264.payload, undefined, 'annexb'));
  }
  return nals;
}
