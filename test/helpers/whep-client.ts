/**
 * A WHEP viewer made with werift's RTCPeerConnection (recvonly H.264, loopback only): its offer,
 * then the frames it receives, reassembled by the RTP marker bit and depacketised by werift's own
 * H.264 depacketizer. What the viewer sees, read without the service's code.
 */
import { H264RtpPayload, RTCPeerConnection, RTCRtpCodecParameters, splitH264NalUnits } from 'werift';
import type { Cleanup } from './cleanup.js';

export interface ReceivedFrame {
  /** The RTP timestamp (90 kHz). */
  readonly rtpTime: number;
  /** NAL unit types, in order. */
  readonly types: readonly number[];
  readonly keyframe: boolean;
  /** performance.now() when its last packet came. */
  readonly at: number;
  /** The NAL units as werift reassembled them. */
  readonly nals: readonly Buffer[];
}

export interface WhepViewer {
  readonly peer: RTCPeerConnection;
  /** The SDP offer, every candidate in it. */
  readonly offer: string;
  readonly frames: ReceivedFrame[];
  readonly packets: { sequenceNumber: number; marker: boolean; timestamp: number }[];
  accept(answer: string): Promise<void>;
  close(): Promise<void>;
}

export const H264_CODEC = (profileLevelId = '42e01f') =>
  new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90_000,
    rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    parameters: `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${profileLevelId}`,
  });

export async function whepViewer(
  cleanup: Cleanup,
  codecs: RTCRtpCodecParameters[] = [H264_CODEC()],
): Promise<WhepViewer> {
  const peer = new RTCPeerConnection({
    codecs: { video: codecs },
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceUseTcp: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
  });
  cleanup.add(() => peer.close());
  const frames: ReceivedFrame[] = [];
  const packets: WhepViewer['packets'] = [];
  let pending: Buffer[] = [];
  let fragment: Buffer | undefined;
  /** The sequence number of the last frame's last packet: one older is a late (retransmitted) copy. */
  let lastEnd: number | undefined;
  peer.ontrack = ({ track }) => {
    track.onReceiveRtp.subscribe((rtp) => {
      const { sequenceNumber, marker, timestamp } = rtp.header;
      // A packet that comes again after its frame was put together (answering a NACK): a real
      // receiver's jitter buffer places it by sequence number; this one has no use for it.
      if (lastEnd !== undefined && ((lastEnd - sequenceNumber) & 0xffff) < 0x8000) return;
      packets.push({ sequenceNumber, marker, timestamp });
      const h264 = H264RtpPayload.deSerialize(rtp.payload, fragment);
      fragment = h264.fragment;
      if (h264.payload?.length) pending.push(...splitH264NalUnits(h264.payload, undefined, 'annexb'));
      if (!marker) return;
      lastEnd = sequenceNumber;
      const types = pending.map((nal) => nal[0]! & 0x1f);
      frames.push({
        rtpTime: timestamp,
        types,
        keyframe: types.includes(5),
        at: performance.now(),
        nals: pending,
      });
      pending = [];
    });
  };
  peer.addTransceiver('video', { direction: 'recvonly' });
  await peer.setLocalDescription(await peer.createOffer());
  if (peer.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      peer.iceGatheringStateChange.subscribe((state) => {
        if (state === 'complete') resolve();
      });
    });
  }
  return {
    peer,
    offer: peer.localDescription!.sdp,
    frames,
    packets,
    async accept(answer) {
      await peer.setRemoteDescription({ type: 'answer', sdp: answer });
    },
    close: () => peer.close(),
  };
}

/** Resolves once the viewer's connection state is `connected`. */
export function connected(viewer: WhepViewer): Promise<void> {
  if (viewer.peer.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve) => {
    viewer.peer.connectionStateChange.subscribe((state) => {
      if (state === 'connected') resolve();
    });
  });
}
