/** Parsers of the WebRTC variables (config.ts): ICE servers and addresses. */
import { isIP } from 'node:net';
import type { IceServer } from './peer.js';

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
