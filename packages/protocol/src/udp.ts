/** UDP targets (`udp://host:port`) for the MPEG-TS stream. */

/** 7 MPEG-TS packets of 188 bytes: fits an Ethernet MTU with IP and UDP headers. */
export const TS_PACKET_SIZE = 188;
export const UDP_DATAGRAM_SIZE = 7 * TS_PACKET_SIZE;

export const DEFAULT_UDP_TARGET = 'udp://127.0.0.1:1234';

/** Host is an IPv4 address, a DNS name, or an IPv6 address in brackets; no path, no query. */
export const UDP_TARGET_PATTERN = '^udp://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):([0-9]{1,5})$';

export interface UdpTarget {
  /** Host without brackets, ready for dgram's `send()`. */
  readonly host: string;
  readonly port: number;
}

const targetRegExp = new RegExp(UDP_TARGET_PATTERN);

export function parseUdpTarget(url: string): UdpTarget {
  const match = targetRegExp.exec(url);
  if (!match) {
    throw new TypeError(`invalid UDP target ${JSON.stringify(url)}: expected udp://host:port`);
  }
  const host = match[1]!.replace(/^\[|\]$/g, '');
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`invalid UDP target ${JSON.stringify(url)}: port must be 1-65535`);
  }
  return { host, port };
}

export function formatUdpTarget({ host, port }: UdpTarget): string {
  return host.includes(':') ? `udp://[${host}]:${port}` : `udp://${host}:${port}`;
}
