/**
 * One viewer's werift peer connection, answering its WHEP offer: H.264 only, send-only, host
 * candidates on WEBRTC_INTERFACE (or every IPv4 interface) from WEBRTC_UDP_PORTS, STUN/TURN
 * from WEBRTC_ICE_SERVERS, a copy of each host candidate at WEBRTC_PUBLIC_IP. The answer carries
 * every candidate (no trickle): werift gathers host candidates at once, STUN within 3 s.
 *
 * werift binds one UDP socket per peer connection (it has no ICE UDP mux), so each viewer takes a
 * port of the range: the range must hold as many ports as viewers are allowed at once.
 */
import type * as Werift from 'werift';
import type {
  RTCPeerConnection,
  RTCPeerConnectionConfig,
  RTCRtpCodecParameters,
  RTCRtpSender,
  RtpHeader,
  RtpPacket,
} from 'werift';
import { chooseH264, offeredH264, OfferError, withPublicCandidates } from './sdp.js';

export interface IceServer {
  readonly urls: string;
  readonly username?: string;
  readonly credential?: string;
}

export interface PeerSettings {
  /** Each viewer's UDP socket gets a port from here; undefined: any free port. */
  readonly udpPortRange: { readonly first: number; readonly last: number } | undefined;
  /** The one address to bind and announce; undefined: every IPv4 interface werift finds. */
  readonly interfaceAddress: string | undefined;
  readonly publicIp: string | undefined;
  readonly iceServers: readonly IceServer[];
}

/** Every port of WEBRTC_UDP_PORTS is taken (or binding failed): no candidate to offer. */
export class NoPortError extends Error {
  override name = 'NoPortError';
}

/** werift's RTP classes, for the viewer's packets (werift is loaded with the first offer). */
export interface RtpClasses {
  readonly RtpHeader: typeof RtpHeader;
  readonly RtpPacket: typeof RtpPacket;
}

export interface Negotiated {
  readonly peer: RTCPeerConnection;
  readonly sender: RTCRtpSender;
  readonly answer: string;
  readonly rtp: RtpClasses;
}

/**
 * werift, imported once a camera streams (output.ts `init`) rather than at boot: it takes a few
 * hundred milliseconds to load, which the service's start should not pay, nor the first viewer.
 */
let werift: Promise<typeof Werift> | undefined;
export const loadWerift = (): Promise<typeof Werift> => (werift ??= import('werift'));

const GATHER_TIMEOUT_MS = 5000;

export function peerConfig(
  settings: PeerSettings,
  parameters: string,
  Codec: typeof RTCRtpCodecParameters,
): RTCPeerConnectionConfig {
  const range = settings.udpPortRange;
  return {
    codecs: {
      video: [
        new Codec({
          mimeType: 'video/H264',
          clockRate: 90_000,
          // No PLI answer (there is no encoder here to ask): NACKs are served from the sender's history.
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
          parameters,
        }),
      ],
      audio: [],
    },
    iceServers: settings.iceServers.map((server) => ({ ...server })),
    iceUseTcp: false,
    iceUseIpv6: false,
    iceStunGatherTimeout: 3,
    // werift refuses a range of one port (config.ts refuses it too).
    ...(range && { icePortRange: [range.first, range.last] }),
    ...(settings.interfaceAddress !== undefined && {
      // No interface scan: exactly this address, its socket bound to it.
      iceUseIpv4: false,
      iceAdditionalHostAddresses: [settings.interfaceAddress],
      iceInterfaceAddresses: { udp4: settings.interfaceAddress },
    }),
  };
}

function gathered(peer: RTCPeerConnection): Promise<void> {
  if (peer.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      unsubscribe();
      resolve();
    }, GATHER_TIMEOUT_MS);
    const { unSubscribe: unsubscribe } = peer.iceGatheringStateChange.subscribe((state) => {
      if (state !== 'complete') return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

/**
 * Offers answered one at a time when ports come from a range: werift probes for a free port of the
 * range (bind, close), then binds it, with no listener for a bind that fails then; two offers
 * gathering at once could pick the same port. Host candidates take milliseconds to gather, so the
 * queue is short.
 */
let rangeQueue: Promise<unknown> = Promise.resolve();

function oneAtATime<T>(settings: PeerSettings, work: () => Promise<T>): Promise<T> {
  if (settings.udpPortRange === undefined) return work();
  const turn = rangeQueue.then(work, work);
  rangeQueue = turn.catch(() => {});
  return turn;
}

/**
 * A peer connection that answers `offer` for a camera whose SPS says `profileLevelId`. Throws
 * OfferError (bad input: nothing is left open) or NoPortError.
 */
export function answerOffer(
  settings: PeerSettings,
  offer: string,
  profileLevelId: string,
): Promise<Negotiated> {
  return oneAtATime(settings, () => answer(settings, offer, profileLevelId));
}

async function answer(settings: PeerSettings, offer: string, profileLevelId: string): Promise<Negotiated> {
  const format = chooseH264(offeredH264(offer), profileLevelId);
  const { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } = await loadWerift();
  const peer = new RTCPeerConnection(peerConfig(settings, format.parameters, RTCRtpCodecParameters));
  try {
    const transceiver = peer.addTransceiver('video', { direction: 'sendonly' });
    try {
      await peer.setRemoteDescription({ type: 'offer', sdp: offer });
    } catch (err) {
      throw new OfferError(`werift could not read it: ${(err as Error).message}`);
    }
    if (!transceiver.sender.codec) throw new OfferError('no H.264 format of the offer could be negotiated');
    await peer.setLocalDescription(await peer.createAnswer());
    await gathered(peer);
    let answer = peer.localDescription!.sdp;
    if (!/^a=candidate:/m.test(answer)) {
      throw new NoPortError('no ICE candidate could be gathered (no free UDP port?)');
    }
    if (settings.publicIp !== undefined) answer = withPublicCandidates(answer, settings.publicIp);
    return { peer, sender: transceiver.sender, answer, rtp: { RtpHeader, RtpPacket } };
  } catch (err) {
    await peer.close().catch(() => {});
    throw err;
  }
}
