/**
 * An egress worker process (HLS_WORKERS; forked by egress/workers.ts). It listens on the service's
 * own server handle, so the kernel gives it a share of new connections, and answers LL-HLS from
 * its mirror (mirror.ts), fed by the service over IPC; every other request goes back to the
 * service with its connection (connection.ts). It lives only as long as its IPC channel: the
 * service gone (even SIGKILLed), it exits at once.
 */
import { Server, type Socket } from 'node:net';
import { Connection } from './connection.js';
import { LOAD_INTERVAL_MS, SERVER_MESSAGE, type FromWorker, type ToWorker } from './messages.js';
import { Mirror } from './mirror.js';

/** A stop that waits longer for answers in progress closes their connections anyway. */
const STOP_GRACE_MS = 2000;

if (!process.send) {
  console.error('camstream egress worker: start it with an IPC channel (the service forks it)');
  process.exit(2);
}

const send = (message: FromWorker, handle?: Socket): boolean => {
  if (!process.connected) return false;
  try {
    if (handle) process.send!(message, handle, {}, (err) => err && handle.destroy());
    else process.send!(message);
    return true;
  } catch {
    return false;
  }
};

let mirror: Mirror | undefined;
/** The service's keepAliveTimeout (settings): an idle connection is closed after it. */
let keepAliveTimeoutMs = 0;
/** Our copy of the service's listening socket: undefined before it comes, and while at our share. */
let server: Server | undefined;
/** Asked the service for its handle again, not yet received; true until the first comes (at fork). */
let asked = true;
/** The most connections we keep (the service's fair share). */
let maxConnections = Infinity;
/** Times we stopped accepting at our share (stats). */
let paused = 0;
let stopping = false;
let handedOff = 0;
const connections = new Set<Connection>();

const handOff = (socket: Socket, head: Buffer): boolean => {
  if (!send({ type: 'hand-off', head }, socket)) return false;
  handedOff += 1;
  return true;
};

function onConnection(socket: Socket): void {
  if (!mirror || stopping) return void socket.destroy();
  const connection: Connection = new Connection(socket, {
    mirror,
    keepAliveTimeoutMs,
    refused: (reason) => mirror && (mirror.refused[reason] = (mirror.refused[reason] ?? 0) + 1),
    // The socket no longer closes here once its handle is sent: it leaves the count now, or the
    // worker would report more connections with each hand-off.
    handOff: (handed, head): boolean => {
      connections.delete(connection);
      const sent = handOff(handed, head);
      balance();
      return sent;
    },
  });
  connections.add(connection);
  socket.once('close', () => (connections.delete(connection), balance()));
  balance();
}

/**
 * Keeps this worker near its fair share without moving a connection: at the share it closes its
 * copy of the listening socket (the service's stays open, so the kernel gives every new connection
 * to the service); 5 % below it, it asks the service for the handle again. Handing
 * each connection past the share back over IPC instead took one round trip per socket, behind the
 * mirror's updates: seconds when viewers arrive by the hundred.
 */
function balance(): void {
  if (stopping) return;
  if (server && connections.size >= maxConnections) {
    server.close();
    server = undefined;
    paused += 1;
  } else if (!server && !asked && connections.size < maxConnections - resumeMargin(maxConnections)) {
    asked = send({ type: 'listen' });
  }
}

/** Connections below its share before a worker that stopped accepting takes new ones again (5 %). */
const resumeMargin = (share: number): number => (Number.isFinite(share) ? Math.ceil(share / 20) : 0);

function stop(): void {
  if (stopping) return;
  stopping = true;
  server?.close();
  server = undefined;
  for (const connection of connections) connection.end();
  const exit = () => process.exit(0);
  if (connections.size === 0) return exit();
  setTimeout(exit, STOP_GRACE_MS).unref();
  const check = setInterval(() => connections.size === 0 && exit(), 20);
  check.unref();
}

process.on('message', (message: ToWorker | typeof SERVER_MESSAGE, handle?: unknown) => {
  if (message === SERVER_MESSAGE) {
    asked = false;
    if (stopping || !mirror || server) return;
    // The bare listening handle (see messages.ts): listened on only once our listener is in place.
    server = new Server();
    server.on('connection', onConnection);
    server.on('error', (err) =>
      send({ type: 'log', level: 'error', fields: { err }, message: 'egress worker: accept failed' }),
    );
    server.listen(handle as object);
    balance();
    return;
  }
  switch (message.type) {
    case 'settings':
      mirror = new Mirror(message, (level, fields, text) =>
        send({ type: 'log', level, fields, message: text }),
      );
      keepAliveTimeoutMs = message.keepAliveTimeoutMs;
      return;
    case 'camera':
      return mirror?.camera(message);
    case 'update':
      return mirror?.update(message);
    case 'camera-gone':
      return mirror?.cameraGone(message.cameraId);
    case 'stats':
      send({
        type: 'stats',
        pid: process.pid,
        answered: mirror?.answered ?? 0,
        handedOff,
        handedOffBy: { ...mirror?.refused },
        held: mirror?.held ?? 0,
        connections: connections.size,
        paused,
        accepting: server !== undefined,
      });
      return;
    case 'share':
      maxConnections = message.maxConnections;
      return balance();
    case 'stop':
      return stop();
  }
});
setInterval(() => send({ type: 'load', connections: connections.size }), LOAD_INTERVAL_MS).unref();
// The service is gone (or closed the channel): nothing here may outlive it, or keep its port.
process.once('disconnect', () => process.exit(0));
// Gone already while this module loaded: 'disconnect' was emitted before anyone listened.
if (!process.connected) process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', () => {}); // Ctrl-C reaches the whole group: the service decides when this stops
