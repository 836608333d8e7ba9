import { describe, expect, test } from 'vitest';
import { formatUdpTarget, parseUdpTarget, UDP_DATAGRAM_SIZE } from '@camstream/protocol';

describe('UDP targets', () => {
  test('datagrams carry seven 188-byte TS packets', () => {
    expect(UDP_DATAGRAM_SIZE).toBe(1316);
  });

  test.each([
    ['udp://127.0.0.1:1234', '127.0.0.1', 1234],
    ['udp://server.local:5000', 'server.local', 5000],
    ['udp://[::1]:1234', '::1', 1234],
  ])('parses %s', (url, host, port) => {
    const target = parseUdpTarget(url);
    expect(target).toEqual({ host, port });
    expect(formatUdpTarget(target)).toBe(url);
  });

  test.each([
    'tcp://127.0.0.1:1234',
    'udp://127.0.0.1',
    'udp://127.0.0.1:0',
    'udp://127.0.0.1:65536',
    'udp://127.0.0.1:1234/path',
    'udp://127.0.0.1:1234?pkt_size=1',
    'udp://host name:1234',
  ])('rejects %s', (url) => {
    expect(() => parseUdpTarget(url)).toThrow(/invalid UDP target/);
  });
});
