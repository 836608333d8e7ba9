/**
 * The WebRTC output's variables (WEBRTC, WEBRTC_*), kept here so that config.ts only spreads them into its
 * table (config.ts is still the one module that reads them), and their parsers: ICE servers and addresses.
 */
import { isIP } from 'node:net';
import type { IceServer } from './peer.js';
import { parsePortRange, type PortRange } from '../../cameras/settings.js';
import { integer, oneOf } from '../../config-parsers.js';

/**
 * WEBRTC_ICE_SERVERS: URLs separated by commas or spaces, `stun:host[:port]` or
 * `turn:user:password@host[:port][?transport=udp|tcp]` (`turns:` too); the credentials are taken out
 * of the URL as RTCIceServer wants them.
 */
export function parseIceServers(raw: string): readonly IceServer[] {
  const servers: IceServer[] = [];
  for (const url of raw.split(/[\s,]+/).filter(Boolean)) {
    const match =
      /^(stun|stuns|turn|turns):(?:([^:@\s]+):([^@\s]+)@)?([^\s@?:]+)(?::(\d{1,5}))?(\?transport=(?:udp|tcp))?$/.exec(
        url,
      );
    if (!match) {
      throw new Error(`${JSON.stringify(url)} is not stun:host[:port] or turn:user:password@host[:port]`);
    }
    const [, scheme, username, credential, host, port, query = ''] = match;
    if (scheme!.startsWith('turn') && username === undefined) {
      throw new Error(`${JSON.stringify(url)}: a TURN server needs user:password@ before its host`);
    }
    servers.push(
      Object.freeze({
        urls: `${scheme}:${host}${port ? `:${port}` : ''}${query}`,
        ...(username !== undefined && { username: decodeURIComponent(username) }),
        ...(credential !== undefined && { credential: decodeURIComponent(credential) }),
      }),
    );
  }
  return Object.freeze(servers);
}

/** An IPv4 address (werift's host candidates here are IPv4). */
export function parseIpv4(raw: string): string {
  if (isIP(raw) !== 4) throw new Error('must be an IPv4 address, e.g. 192.168.1.10');
  return raw;
}

export interface WebrtcConfig {
  /** WebRTC (WHEP) viewers are served. */
  readonly webrtc: boolean;
  readonly webrtcMaxViewers: number;
  /** A connected viewer that sent no RTCP for this long is ended (it went away without a DELETE). */
  readonly webrtcInactiveMs: number;
  /** Undefined: each viewer's UDP socket on any free port. */
  readonly webrtcUdpPortRange: PortRange | undefined;
  /** Undefined: host candidates on every IPv4 interface. */
  readonly webrtcInterface: string | undefined;
  readonly webrtcPublicIp: string | undefined;
  /** Undefined: none (host candidates only). */
  readonly webrtcIceServers: readonly IceServer[] | undefined;
}

/** Spread into config.ts's VARIABLES, in the order the README documents them. */
export const WEBRTC_VARIABLES = {
  WEBRTC: {
    key: 'webrtc',
    description: 'on: each camera is served over WebRTC too (WHEP, POST /api/cameras/<id>/whep); off: not',
    default: 'on',
    parse: (raw: string) => oneOf(['on', 'off'] as const)(raw) === 'on',
  },
  WEBRTC_MAX_VIEWERS: {
    key: 'webrtcMaxViewers',
    description: 'WebRTC viewers of one camera at once; one more gets 503',
    default: '10',
    parse: integer(1, 1000),
  },
  WEBRTC_INACTIVE_MS: {
    key: 'webrtcInactiveMs',
    description:
      'a WebRTC viewer that sent no RTCP for this long is ended (it went away without a DELETE); browsers report every second or so',
    default: '10000',
    parse: integer(2000, 600_000),
  },
  WEBRTC_UDP_PORTS: {
    key: 'webrtcUdpPortRange',
    description:
      'UDP ports for WebRTC media (first-last), one per viewer at a time (werift has no single-port mux): open them in firewalls; unset: any free port',
    default: undefined,
    parse: (raw: string) => {
      const range = parsePortRange(raw);
      // werift takes a range of two ports at least.
      if (range.first === range.last) throw new Error('must hold two ports at least, e.g. 40000-40099');
      return range;
    },
  },
  WEBRTC_INTERFACE: {
    key: 'webrtcInterface',
    description:
      'the one IPv4 address WebRTC binds and offers as its host candidate (e.g. 127.0.0.1); unset: every IPv4 interface',
    default: undefined,
    parse: parseIpv4,
  },
  WEBRTC_PUBLIC_IP: {
    key: 'webrtcPublicIp',
    description:
      'an IPv4 address viewers reach this host at through a NAT that forwards the same ports (1:1): offered as an extra candidate',
    default: undefined,
    parse: parseIpv4,
  },
  WEBRTC_ICE_SERVERS: {
    key: 'webrtcIceServers',
    description:
      'STUN/TURN servers, comma-separated: stun:host:port, turn:user:password@host:port; unset: none (host candidates only)',
    default: undefined,
    parse: parseIceServers,
  },
} as const;
