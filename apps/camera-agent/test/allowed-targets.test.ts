/**
 * ALLOWED_TARGETS, the pure matcher: examples of each pattern form, bad patterns refused with a
 * reason, and fast-check properties against an oracle written out independently (plain integer
 * arithmetic on IPv4 addresses and ports, string suffixes for names).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseUdpTarget } from '@camstream/protocol';
import {
  defaultAllowedTargets,
  isTargetAllowed,
  parseAllowedTargets,
  refuseTarget,
} from '../src/allowed-targets.js';
import { loadAgentConfig } from '../src/config.js';
import { AgentStateMachine, TARGET_NOT_ALLOWED } from '../src/state-machine.js';
import { checkProperty } from '../../../test/helpers/fuzz.js';

const allows = (setting: string, target: string) =>
  isTargetAllowed(parseAllowedTargets(setting), parseUdpTarget(target));

describe('parseAllowedTargets and isTargetAllowed', () => {
  test.each([
    ['10.0.0.5', 'udp://10.0.0.5:1234', true],
    ['10.0.0.5', 'udp://10.0.0.6:1234', false],
    ['10.0.0.5:5000', 'udp://10.0.0.5:5000', true],
    ['10.0.0.5:5000', 'udp://10.0.0.5:5001', false],
    ['*.lan:5000-5010', 'udp://cam.lan:5010', true],
    ['*.lan:5000-5010', 'udp://a.b.LAN:5000', true],
    ['*.lan:5000-5010', 'udp://cam.lan:5011', false],
    ['*.lan', 'udp://lan:5000', false],
    ['*.lan', 'udp://evil-lan:5000', false],
    ['*.lan', 'udp://cam.lan.evil.com:5000', false],
    ['server.lan', 'udp://SERVER.lan:1', true],
    ['server.lan', 'udp://server.lan.:1', true],
    ['server.lan', 'udp://10.0.0.2:1', false],
    ['10.0.0.0/24', 'udp://10.0.0.255:9', true],
    ['10.0.0.0/24', 'udp://10.0.1.0:9', false],
    ['10.0.0.0/24:1240-1339', 'udp://10.0.0.7:1339', true],
    ['10.0.0.0/24:1240-1339', 'udp://10.0.0.7:1340', false],
    ['[fd00::1]:5000', 'udp://[fd00::1]:5000', true],
    ['[fd00::/64]', 'udp://[fd00::abcd]:5000', true],
    ['[fd00::/64]', 'udp://[fd01::1]:5000', false],
    ['127.0.0.1, server.lan:1234', 'udp://server.lan:1234', true],
    ['*', 'udp://203.0.113.9:4000', true],
    ['*:1234', 'udp://203.0.113.9:4000', false],
  ])('%s allows %s: %s', (setting, target, expected) => {
    expect(allows(setting, target)).toBe(expected);
  });

  test.each([
    ['', /lists no pattern/],
    ['10.0.0.5:0', /ports go from 1 to 65535/],
    ['10.0.0.5:5010-5000', /low-high/],
    ['10.0.0.5:abc', /a number or a range/],
    ['fd00::1', /IPv6 address in brackets/],
    ['10.0.0.0/33', /prefix length must be 0-32/],
    ['under_score', /not a host name/],
    ['*.', /not a host name after/],
    ['[cam.lan]', /not an IP address/],
  ])('%j is refused: %s', (setting, why) => {
    expect(() => parseAllowedTargets(setting)).toThrow(why);
  });

  test('the default is UDP_TARGET’s host, any port; a foreign target is refused with a reason', () => {
    expect(defaultAllowedTargets(parseUdpTarget('udp://server.lan:1234'))).toBe('server.lan');
    expect(defaultAllowedTargets(parseUdpTarget('udp://[::1]:1234'))).toBe('[::1]');
    const { allowedTargets } = loadAgentConfig({ UDP_TARGET: 'udp://10.0.0.2:1234' });
    expect(refuseTarget(allowedTargets, 'udp://10.0.0.2:1250')).toBeUndefined();
    expect(refuseTarget(allowedTargets, 'udp://203.0.113.9:1234')).toBe(
      'refused to stream to udp://203.0.113.9:1234: ALLOWED_TARGETS lists only 10.0.0.2',
    );
    expect(() => loadAgentConfig({ ALLOWED_TARGETS: '10.0.0.5:99999' })).toThrow(
      /ALLOWED_TARGETS: "10.0.0.5:99999": ports go from 1 to 65535/,
    );
  });

  test('the state machine answers a foreign start with the stable code and changes nothing', () => {
    const patterns = parseAllowedTargets('127.0.0.1');
    const machine = new AgentStateMachine({
      defaultTarget: 'udp://127.0.0.1:1234',
      refuseTarget: (target) => refuseTarget(patterns, target),
    });
    const foreign = machine.receive(
      JSON.stringify({ id: 'a', action: 'start', target: 'udp://203.0.113.9:1234' }),
    );
    expect(foreign).toEqual({
      kind: 'reply',
      reply: expect.objectContaining({ commandId: 'a', ok: false, code: TARGET_NOT_ALLOWED, state: 'idle' }),
    });
    expect(machine.state).toBe('idle');
    // A duplicate gets the same refusal; the allowed default target is applied.
    const again = machine.receive(JSON.stringify({ id: 'a', action: 'start' }));
    expect(again).toMatchObject({
      kind: 'reply',
      reply: { ok: false, code: TARGET_NOT_ALLOWED, duplicate: true },
    });
    expect(machine.receive(JSON.stringify({ id: 'b', action: 'start' }))).toMatchObject({
      kind: 'apply',
      effect: { type: 'start', target: 'udp://127.0.0.1:1234' },
    });
  });
});

/** An IPv4 address as an integer, for the oracle. */
const ipv4 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const dotted = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
const port = fc.integer({ min: 1, max: 65535 });
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));

describe('the matcher, fuzzed against an oracle', () => {
  test('CIDR with a port range: allowed exactly when the address is in the block and the port in the range', () => {
    checkProperty(
      fc.property(
        ipv4,
        fc.integer({ min: 0, max: 32 }),
        port,
        port,
        ipv4,
        port,
        (base, bits, a, b, address, targetPort) => {
          const [first, last] = a <= b ? [a, b] : [b, a];
          const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
          const network = (base & mask) >>> 0;
          const inside = (address & mask) >>> 0 === network && targetPort >= first && targetPort <= last;
          const setting = `${dotted(network)}/${bits}:${first}-${last}`;
          expect(allows(setting, `udp://${dotted(address)}:${targetPort}`)).toBe(inside);
          // The block's own network address with an allowed port is always in.
          expect(allows(setting, `udp://${dotted(network)}:${first}`)).toBe(true);
        },
      ),
      300,
    );
  });

  test('names and *.domain: a name matches itself and names under a wildcard; never an address', () => {
    checkProperty(
      fc.property(name, name, ipv4, port, (pattern, host, address, targetPort) => {
        expect(allows(pattern, `udp://${host}:${targetPort}`)).toBe(host === pattern);
        expect(allows(`*.${pattern}`, `udp://${host}:${targetPort}`)).toBe(host.endsWith(`.${pattern}`));
        expect(allows(`*.${pattern}`, `udp://${host}.${pattern}:${targetPort}`)).toBe(true);
        expect(allows(pattern, `udp://${dotted(address)}:${targetPort}`)).toBe(false);
      }),
      300,
    );
  });

  test('a list allows a target exactly when one of its patterns does', () => {
    const single = fc.oneof(
      fc.tuple(ipv4, fc.option(port)).map(([a, p]) => (p === null ? dotted(a) : `${dotted(a)}:${p}`)),
      name,
      name.map((n) => `*.${n}`),
    );
    const target = fc.oneof(
      fc.tuple(ipv4, port).map(([a, p]) => `udp://${dotted(a)}:${p}`),
      fc.tuple(name, port).map(([n, p]) => `udp://${n}:${p}`),
    );
    checkProperty(
      fc.property(fc.array(single, { minLength: 1, maxLength: 5 }), target, (patterns, url) => {
        const anyOne = patterns.some((pattern) => allows(pattern, url));
        expect(allows(patterns.join(','), url)).toBe(anyOne);
      }),
      300,
    );
  });
});
