/**
 * Connections that never carried a request (browsers open them speculatively; so does undici after
 * an aborted fetch) are not "idle" to Node 20's server.closeIdleConnections(), so server.close()
 * waits for them until the client gives up (seconds to minutes). The shutdown destroys them: no
 * request can be lost on a connection that has none.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export function closeUnusedConnectionsOnShutdown(app: FastifyInstance): void {
  const sockets = new Set<Socket>();
  const used = new WeakSet<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  app.server.on('request', (request: { socket: Socket }) => used.add(request.socket));
  app.addHook('preClose', async () => {
    for (const socket of sockets) if (!used.has(socket)) socket.destroy();
  });
}
