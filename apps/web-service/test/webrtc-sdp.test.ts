/** What the service reads in a WHEP offer and adds to its answer (outputs/webrtc/sdp.ts). */
import { describe, expect, test } from 'vitest';
import { chooseH264, offeredH264, OfferError, withPublicCandidates } from '../src/outputs/webrtc/sdp.js';

// The H.264 part of what Chromium offers (recvonly), trimmed.
const chromium = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=rtpmap:111 opus/48000/2',
  'a=recvonly',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 102 104 106 112',
  'a=recvonly',
  'a=rtpmap:96 VP8/90000',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:104 H264/90000',
  'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  'a=rtpmap:106 H264/90000',
  'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:112 H264/90000',
  'a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f',
  '',
].join('\r\n');

describe('the offer', () => {
  test('H.264 in packetization-mode 1 only, from the video section', () => {
    expect(offeredH264(chromium).map((f) => [f.payloadType, f.profileLevelId])).toEqual([
      [102, '42001f'],
      [106, '42e01f'],
      [112, '64001f'],
    ]);
  });

  test('the camera’s profile if offered, whatever the level; else constrained baseline', () => {
    const formats = offeredH264(chromium);
    expect(chooseH264(formats, '640028').payloadType).toBe(112); // High, level 4.0
    expect(chooseH264(formats, '42c01e').payloadType).toBe(102); // baseline family
    expect(chooseH264(formats, '4d0028').payloadType).toBe(106); // Main: not offered
  });

  test.each([
    ['not SDP', 'hello'],
    ['no video', chromium.split('m=video')[0]!],
    ['video that does not receive', chromium.replace(/a=recvonly(?![\s\S]*a=recvonly)/, 'a=sendonly')],
    ['a rejected video section', chromium.replace('m=video 9', 'm=video 0')],
    ['no H.264 in mode 1', chromium.replace(/packetization-mode=1/g, 'packetization-mode=0')],
  ])('%s: an OfferError', (_what, offer) => {
    expect(() => offeredH264(offer)).toThrow(OfferError);
  });
});

describe('the answer', () => {
  test('WEBRTC_PUBLIC_IP: each host candidate again at the public address, same port, lower priority', () => {
    const answer =
      'a=mid:0\r\na=candidate:abc 1 udp 2116026367 10.0.0.5 40001 typ host generation 0\r\na=end-of-candidates\r\n';
    expect(withPublicCandidates(answer, '203.0.113.7')).toBe(
      'a=mid:0\r\na=candidate:abc 1 udp 2116026367 10.0.0.5 40001 typ host generation 0\r\n' +
        'a=candidate:abcp 1 udp 2116026366 203.0.113.7 40001 typ host generation 0\r\na=end-of-candidates\r\n',
    );
  });
});
