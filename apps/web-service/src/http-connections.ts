/**
 * What keeps server.close() waiting at shutdown, and how it is ended:
 * - Connections that never carried a request (browsers open them speculatively; so does undici after
 *   an aborted fetch) are not "idle" to Node 20's server.closeIdleConnections(), so server.close()
 *   waits for them until the client gives up (seconds to minutes). They are destroyed: no request can
 *   be lost on a connection that has none.
 * - A request still being answered when the shutdown began (a segment being sent) leaves a keep-alive
 *   connection behind once it is done, after Fastify closed the idle ones, and server.close() waits
 *   for it until keepAliveTimeout (72 s). Such a connection is ended as soon as its answer is sent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export function closeUnusedConnectionsOnShutdown(app: FastifyInstance): void {
  const sockets = new Set<Socket>();
  const used = new WeakSet<Socket>();
  let closing = false;
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    used.add(request.socket);
    response.once('finish', () => {
      if (closing) request.socket.end();
    });
  });
  app.addHook('preClose', async () => {
    closing = true;
    for (const socket of sockets) if (!used.has(socket)) socket.destroy();
  });
}
