/**
 * Server-sent events, with a comment line as heartbeat so proxies and browsers keep the connection
 * open:
 * - `/api/stream/events` (the default camera) and `/api/cameras/<id>/events`: a `stream` event with
 *   the camera's StreamInfo on connect and on every change (of its stream, its camera's status, or
 *   whether it is recorded: `recording`, `recordingSince`);
 * - `/api/cameras/events`: a `camera` event with each camera's StreamInfo on connect and on every
 *   change of any camera, a `removed` event `{ cameraId }` when one is forgotten.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_PATHS, type CameraRemoved, type StreamInfo } from '@camstream/protocol';
import type { Camera } from '../cameras/camera.js';
import type { CameraRegistry } from '../cameras/registry.js';
import { asFirstContract, cameraParams, lookUpCamera } from './cameras.js';

export interface EventRoutesOptions {
  readonly heartbeatMs: number;
}

type Send = (event: string, data: unknown) => void;

/** EventSource sends no headers: the token may come as ?token= (door/guard.ts; the log redacts it). */
const SSE = { config: { queryToken: true } };

export function eventRoutes(
  app: FastifyInstance,
  registry: CameraRegistry,
  options: EventRoutesOptions,
): void {
  const open = new Set<ServerResponse>();

  // Open event streams would keep server.close() waiting forever: end them first.
  app.addHook('preClose', async () => {
    for (const response of open) response.end();
  });

  /** Opens an event stream; `subscribe` starts sending and returns what stops it. */
  const serve = (request: FastifyRequest, reply: FastifyReply, subscribe: (send: Send) => () => void) => {
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), options.heartbeatMs);
    open.add(response);
    response.write('retry: 2000\n\n');
    const unsubscribe = subscribe((event, data) =>
      response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
    );
    response.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(response);
    });
    request.log.debug({ clients: open.size }, 'event stream opened');
  };

  /** One camera's `stream` events, until the client leaves or the camera is forgotten. */
  const cameraEvents = (camera: Camera, response: ServerResponse, map: (info: StreamInfo) => StreamInfo) => {
    return (send: Send) => {
      const onChange = (info: StreamInfo) => send('stream', map(info));
      const onRemoved = (cameraId: string) => {
        if (cameraId === camera.id) response.end();
      };
      camera.on('change', onChange);
      registry.on('removed', onRemoved);
      send('stream', map(camera.info()));
      return () => {
        camera.off('change', onChange);
        registry.off('removed', onRemoved);
      };
    };
  };

  app.get(API_PATHS.events, SSE, (request, reply) =>
    serve(request, reply, cameraEvents(registry.default, reply.raw, asFirstContract)),
  );

  app.get(API_PATHS.camerasEvents, SSE, (request, reply) =>
    serve(request, reply, (send) => {
      const onChange = (info: StreamInfo) => send('camera', info);
      const onRemoved = (cameraId: string) => send('removed', { cameraId } satisfies CameraRemoved);
      registry.on('change', onChange);
      registry.on('removed', onRemoved);
      for (const camera of registry.list()) send('camera', camera.info());
      return () => {
        registry.off('change', onChange);
        registry.off('removed', onRemoved);
      };
    }),
  );

  app.get(
    `${API_PATHS.cameras}/:cameraId/events`,
    { ...SSE, schema: { params: cameraParams } },
    (request, reply) => {
      const camera = lookUpCamera(registry, request.params as { cameraId: string });
      serve(
        request,
        reply,
        cameraEvents(camera, reply.raw, (info) => info),
      );
    },
  );
}
