/**
 * Server-sent events: a `stream` event with the StreamInfo on connect and on every change, and a
 * comment line as heartbeat so proxies and browsers keep the connection open.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { API_PATHS, type StreamInfo } from '@camstream/protocol';
import type { StreamManager } from '../stream/stream-manager.js';

export interface EventRoutesOptions {
  readonly heartbeatMs: number;
}

export function eventRoutes(app: FastifyInstance, streams: StreamManager, options: EventRoutesOptions): void {
  const open = new Set<ServerResponse>();

  // Open event streams would keep server.close() waiting forever: end them first.
  app.addHook('preClose', async () => {
    for (const response of open) response.end();
  });

  app.get(API_PATHS.events, (request, reply) => {
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    const send = (info: StreamInfo) => response.write(`event: stream\ndata: ${JSON.stringify(info)}\n\n`);
    const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), options.heartbeatMs);
    const cleanup = () => {
      clearInterval(heartbeat);
      streams.off('change', send);
      open.delete(response);
    };
    open.add(response);
    streams.on('change', send);
    response.once('close', cleanup);
    response.write('retry: 2000\n\n');
    send(streams.info());
    request.log.debug({ clients: open.size }, 'event stream opened');
  });
}
