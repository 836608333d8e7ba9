/**
 * ALLOWED_TARGETS: where a start command may send the stream. Pure: patterns in, yes or no out.
 *
 * A pattern is a host with an optional port or port range, comma-separated in the setting:
 * `10.0.0.5` (any port), `10.0.0.5:5000`, `*.lan:5000-5010` (any name under lan), `10.0.0.0/24`,
 * `[fd00::1]:5000`, `[fd00::/64]`, or `*` (anywhere: only on purpose). Names are compared as
 * written, case-insensitive and never resolved: `cam.lan` allows the name, not what it resolves to,
 * and an address pattern allows only that address written as an address.
 */
import { BlockList, isIP } from 'node:net';
import { parseUdpTarget, type UdpTarget } from '@camstream/protocol';

export interface TargetPattern {
  /** As written in the setting, for messages. */
  readonly text: string;
  readonly host:
    | { readonly kind: 'any' }
    | { readonly kind: 'name'; readonly name: string }
    | { readonly kind: 'suffix'; readonly suffix: string }
    | { readonly kind: 'net'; readonly list: BlockList };
  /** Undefined: any port. */
  readonly ports?: { readonly first: number; readonly last: number };
}

const NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Parses one pattern; throws a TypeError that says what is wrong. */
export function parseTargetPattern(text: string): TargetPattern {
  const fail = (why: string): never => {
    throw new TypeError(`${JSON.stringify(text)}: ${why}`);
  };
  let hostText: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    hostText = bracketed[1]!;
    portText = bracketed[2];
  } else {
    const parts = text.split(':');
    if (parts.length > 2) fail('write an IPv6 address in brackets, e.g. [fd00::1]:5000');
    hostText = parts[0]!;
    portText = parts[1];
  }
  const ports = portText === undefined ? undefined : parsePorts(portText, fail);
  const host = parseHost(hostText.toLowerCase(), Boolean(bracketed), fail);
  return { text, host, ...(ports && { ports }) };
}

function parsePorts(text: string, fail: (why: string) => never): { first: number; last: number } {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!match) return fail('the port must be a number or a range such as 5000-5010');
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (first < 1 || last > 65535 || first > last) return fail('ports go from 1 to 65535, low-high');
  return { first, last };
}

function parseHost(written: string, bracketed: boolean, fail: (why: string) => never): TargetPattern['host'] {
  if (written === '*' && !bracketed) return { kind: 'any' };
  // A fully qualified name's trailing dot changes nothing ("*." is no pattern, though).
  const text = written.length > 2 ? written.replace(/\.$/, '') : written;
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family !== 0) {
    if (family === 6 && !bracketed) fail('write an IPv6 address in brackets');
    const bits = slash === -1 ? (family === 4 ? 32 : 128) : Number(text.slice(slash + 1));
    const max = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(text.slice(slash + 1)) && slash !== -1) fail('the prefix length must be a number');
    if (!Number.isInteger(bits) || bits < 0 || bits > max) fail(`the prefix length must be 0-${max}`);
    const list = new BlockList();
    list.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
    return { kind: 'net', list };
  }
  if (bracketed || slash !== -1) fail('not an IP address');
  if (text.startsWith('*.')) {
    const suffix = text.slice(2);
    if (!NAME.test(suffix)) fail('not a host name after "*."');
    return { kind: 'suffix', suffix };
  }
  if (!NAME.test(text)) fail('not a host name, IP address, CIDR block or *.domain');
  return { kind: 'name', name: text };
}

/** Parses the comma-separated setting; throws a TypeError listing every bad pattern. */
export function parseAllowedTargets(setting: string): readonly TargetPattern[] {
  const patterns: TargetPattern[] = [];
  const problems: string[] = [];
  for (const text of setting.split(',').map((part) => part.trim())) {
    if (text === '') continue;
    try {
      patterns.push(parseTargetPattern(text));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) throw new TypeError(problems.join('; '));
  if (patterns.length === 0) throw new TypeError('lists no pattern');
  return Object.freeze(patterns);
}

/** The pattern that allows `target`, or undefined. */
export function allowingPattern(
  patterns: readonly TargetPattern[],
  target: UdpTarget,
): TargetPattern | undefined {
  const host = target.host.toLowerCase().replace(/\.$/, '');
  const family = isIP(host);
  return patterns.find((pattern) => {
    if (pattern.ports && (target.port < pattern.ports.first || target.port > pattern.ports.last))
      return false;
    const want = pattern.host;
    switch (want.kind) {
      case 'any':
        return true;
      case 'name':
        return family === 0 && host === want.name;
      case 'suffix':
        return family === 0 && host.endsWith(`.${want.suffix}`);
      case 'net':
        return family !== 0 && want.list.check(host, family === 4 ? 'ipv4' : 'ipv6');
    }
  });
}

export function isTargetAllowed(patterns: readonly TargetPattern[], target: UdpTarget): boolean {
  return allowingPattern(patterns, target) !== undefined;
}

/** The default: the host of UDP_TARGET, any port. */
export function defaultAllowedTargets(udpTarget: UdpTarget): string {
  return udpTarget.host.includes(':') ? `[${udpTarget.host}]` : udpTarget.host;
}

/** Why a start to `target` (udp://host:port) is refused, or undefined when a pattern allows it. */
export function refuseTarget(patterns: readonly TargetPattern[], target: string): string | undefined {
  if (isTargetAllowed(patterns, parseUdpTarget(target))) return undefined;
  const allowed = patterns.map((pattern) => pattern.text).join(', ');
  return `refused to stream to ${target}: ALLOWED_TARGETS lists only ${allowed}`;
}
