/**
 * The load generator's HTTP/1.1 client (bench/viewers/http-client.ts) against node:http's server:
 * bodies by Content-Length and chunked, one connection kept alive for many requests, requests queued
 * one at a time, a non-200 as an HttpError, a connection the server closes replaced by the next
 * request, and the playlist parse shared between viewers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { HttpConnection, HttpError } from '../bench/viewers/http-client.js';
import { readPlaylist } from '../bench/viewers/viewer.js';
import { useCleanup } from './helpers/cleanup.js';

describe('bench/viewers http-client', () => {
  const cleanup = useCleanup();

  async function serve(
    handler: Parameters<typeof createServer>[1],
  ): Promise<{ origin: URL; server: Server }> {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.add(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return { origin: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`), server };
  }

  test('bodies by Content-Length and chunked, many requests on one kept-alive connection, one at a time', async () => {
    const sockets = new Set<unknown>();
    let inFlight = 0;
    let mostInFlight = 0;
    const { origin } = await serve((request, response) => {
      sockets.add(request.socket);
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        if (request.url === '/chunked') {
          response.write('abc');
          response.end('defgh');
        } else {
          const body = Buffer.alloc(200_000, request.url!.length);
          response.writeHead(200, { 'content-length': body.length }).end(body);
        }
      }, 5);
    });
    const connection = new HttpConnection(origin);
    cleanup.add(() => connection.close());
    const answers = await Promise.all([
      connection.get('/big', false),
      connection.get('/chunked', true),
      connection.get('/kept', true),
    ]);
    expect(answers[0]).toEqual({ body: undefined, length: 200_000 });
    expect(answers[1]!.body!.toString()).toBe('abcdefgh');
    expect(answers[2]!.body!.equals(Buffer.alloc(200_000, '/kept'.length))).toBe(true);
    expect(sockets.size).toBe(1);
    expect(mostInFlight).toBe(1);
  });

  test('a non-200 is an HttpError; a connection the server closes is replaced by the next request', async () => {
    const sockets = new Set<unknown>();
    const { origin } = await serve((request, response) => {
      sockets.add(request.socket);
      if (request.url === '/missing') response.writeHead(404, { 'content-length': 2 }).end('no');
      else if (request.url === '/close') response.writeHead(200, { connection: 'close' }).end('bye');
      else response.end('ok');
    });
    const connection = new HttpConnection(origin);
    cleanup.add(() => connection.close());
    await expect(connection.get('/missing', true)).rejects.toEqual(new HttpError('HTTP 404'));
    expect((await connection.get('/close', true)).body!.toString()).toBe('bye');
    expect((await connection.get('/again', true)).body!.toString()).toBe('ok');
    expect(sockets.size).toBe(2);
    connection.close();
    await expect(connection.get('/after', true)).rejects.toEqual(new HttpError('closed'));
  });

  test('a playlist text is parsed once, whatever the number of viewers that get it', () => {
    const text =
      '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:4\n#EXT-X-MAP:URI="a-init.mp4"\n' +
      '#EXT-X-PART:DURATION=0.2,URI="a-4.0.m4s",INDEPENDENT=YES\n#EXT-X-PART:DURATION=0.2,URI="a-4.1.m4s"\n' +
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="a-4.2.m4s"\n';
    const first = readPlaylist(text);
    expect(first.version).toBe('4.1');
    expect(first.map).toBe('a-init.mp4');
    expect([...first.listed]).toEqual(['a-4.0.m4s', 'a-4.1.m4s', 'a-4.2.m4s']);
    expect(readPlaylist(`${text}`)).toBe(first);
  });
});
