/**
 * egress/request-head.ts: what an egress worker reads of a request before it answers or hands the
 * connection back. Only a plain keep-alive `GET /hls/…` HTTP/1.1 head with one Host is its own.
 */
import { describe, expect, test } from 'vitest';
import { MAX_HEAD, readRequestHead } from '../src/egress/request-head.js';

const head = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

describe('readRequestHead', () => {
  test('a plain GET of /hls: its URL and length, with what follows left alone', () => {
    const bytes = head(['GET /hls/stream.m3u8?_HLS_msn=3 HTTP/1.1', 'Host: a', 'Connection: Keep-Alive']);
    const next = Buffer.from('GET /hls/x HTTP/1.1\r\n');
    expect(readRequestHead(Buffer.concat([bytes, next]))).toEqual({
      kind: 'get',
      url: '/hls/stream.m3u8?_HLS_msn=3',
      length: bytes.length,
    });
  });

  test('incomplete until the blank line, handed off past MAX_HEAD', () => {
    expect(readRequestHead(Buffer.from('GET /hls/stream.m3u8 HTTP/1.1\r\nHost: a\r\n'))).toEqual({
      kind: 'incomplete',
    });
    expect(readRequestHead(Buffer.alloc(MAX_HEAD + 1, 'a'))).toEqual({ kind: 'hand-off' });
  });

  test.each([
    ['another method', ['HEAD /hls/stream.m3u8 HTTP/1.1', 'Host: a']],
    ['another path', ['GET /api/stream HTTP/1.1', 'Host: a']],
    ['HTTP/1.0', ['GET /hls/stream.m3u8 HTTP/1.0', 'Host: a']],
    ['no Host', ['GET /hls/stream.m3u8 HTTP/1.1']],
    ['two Hosts', ['GET /hls/stream.m3u8 HTTP/1.1', 'Host: a', 'Host: b']],
    ['credentials', ['GET /hls/stream.m3u8 HTTP/1.1', 'Host: a', 'Authorization: Bearer x']],
    ['a body', ['GET /hls/stream.m3u8 HTTP/1.1', 'Host: a', 'Content-Length: 2']],
    ['chunked', ['GET /hls/stream.m3u8 HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked']],
    ['Connection: close', ['GET /hls/stream.m3u8 HTTP/1.1', 'Host: a', 'Connection: close']],
    ['an upgrade', ['GET /hls/stream.m3u8 HTTP/1.1', 'Host: a', 'Upgrade: websocket']],
    ['a folded header', ['GET /hls/stream.m3u8 HTTP/1.1', 'Host: a', 'X-A: b', ' c']],
    ['a control byte', ['GET /hls/stream.m3u8 HTTP/1.1', 'Host: a', 'X-A: b\x01']],
    ['a space in the target', ['GET /hls/a b HTTP/1.1', 'Host: a']],
  ])('%s: the service’s', (_what, lines) => {
    expect(readRequestHead(head(lines))).toEqual({ kind: 'hand-off' });
  });
});
