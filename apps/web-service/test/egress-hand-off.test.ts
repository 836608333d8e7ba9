/**
 * An egress worker's hand-off and its fair share (src/egress/worker.ts, connection.ts), without the
 * app: the test forks the worker, gives it a listening handle, and plays the service's part (unshift
 * the bytes a hand-off carries, then emit the socket as a new connection of an HTTP server that
 * answers every request; send the handle again when the worker asks). Every request a client sends,
 * first or pipelined, must reach that server, and the worker must forget the connections it handed
 * over. Connections made before the worker has seen the handle (it is still starting) are the
 * worker's too. At its share the worker stops accepting (the service's copy takes every connection,
 * none is handed over), and below it again it asks for the handle and accepts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { type FromWorker, type ToWorker, type WorkerStats } from '../src/egress/messages.js';
import { sendServer } from '../src/egress/workers.js';
import { useCleanup, type Cleanup } from '../../../test/helpers/cleanup.js';

const WORKER = fileURLToPath(new URL('../src/egress/worker.ts', import.meta.url));

interface Harness {
  readonly port: number;
  readonly child: ChildProcess;
  /** Requests the "service" answered, by URL. */
  readonly answered: string[];
  /** Connections the test's own copy of the listening socket accepted (serviceAccepts). */
  readonly accepted: { count: number };
  send(message: ToWorker): void;
  stats(): Promise<WorkerStats>;
}

interface StartOptions {
  /** The handle is sent at once, as to a worker forked again while the service serves. */
  readonly early?: boolean;
  /** The test keeps its copy of the listening socket and accepts on it, as the service does. */
  readonly serviceAccepts?: boolean;
}

async function startWorker(
  cleanup: Cleanup,
  maxConnections: number,
  { early = false, serviceAccepts = false }: StartOptions = {},
): Promise<Harness> {
  const answered: string[] = [];
  const service = createHttpServer({ keepAliveTimeout: 5000 }, (req, res) => {
    answered.push(req.url!);
    res.end(`service: ${req.url}\n`);
  });
  cleanup.add(() => service.closeAllConnections());
  const child = fork(WORKER, [], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: ['--import', 'tsx'],
  });
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  const accepted = { count: 0 };
  const listening: Server = createServer((socket) => {
    accepted.count += 1;
    service.emit('connection', socket);
  });
  child.on('message', (message: FromWorker, handle: unknown) => {
    if (message.type === 'listen' && listening.listening) sendServer(child, listening);
    if (message.type !== 'hand-off' || !handle) return;
    const socket = handle as Socket;
    if (message.head.length > 0) socket.unshift(message.head);
    service.emit('connection', socket);
  });
  // Its first report: its listeners are in place (the service forks its workers before it serves).
  if (!early) await new Promise((resolve) => child.once('message', resolve));
  cleanup.add(
    () =>
      new Promise<void>((resolve) => (listening.listening ? listening.close(() => resolve()) : resolve())),
  );
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const { port } = listening.address() as AddressInfo;
  const send = (message: ToWorker) => child.send(message);
  send({
    type: 'settings',
    defaultCameraId: 'cam1',
    baseHeaders: [],
    keepAliveTimeoutMs: 5000,
    handOffAll: false,
  });
  send({ type: 'share', maxConnections });
  // Once the worker has its copy, ours closes: every connection is the worker's to accept.
  await new Promise<void>((resolve, reject) =>
    sendServer(child, listening, (err) => (err ? reject(err) : resolve())),
  );
  if (!serviceAccepts) await new Promise((resolve) => listening.close(resolve));
  const stats = () =>
    new Promise<WorkerStats>((resolve) => {
      const onMessage = (message: FromWorker) => {
        if (message.type !== 'stats') return;
        child.off('message', onMessage);
        resolve(message);
      };
      child.on('message', onMessage);
      send({ type: 'stats' });
    });
  return { port, child, answered, accepted, send, stats };
}

/** Connects and writes `requests` at once (pipelined); resolves with each answer's body. */
function ask(port: number, requests: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const bodies = [...text.matchAll(/(service: \S+)\n/g)].map((match) => match[1]!);
      if (bodies.length === requests.length) {
        socket.destroy();
        resolve(bodies);
      }
    });
    socket.on('error', reject);
    socket.write(requests.map((url) => `GET ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
  });
}

const cleanup = useCleanup();

/** Opens a connection that sends nothing (a viewer between requests); resolves once connected. */
function idle(cleanup: Cleanup, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
    cleanup.add(() => void socket.destroy());
  });
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting until ${what}`);
}

test('at its fair share a worker stops accepting: the service takes every new connection, none is handed over', async () => {
  const worker = await startWorker(cleanup, 0, { serviceAccepts: true });
  const urls = Array.from({ length: 30 }, (_, i) => `/hls/stream.m3u8?n=${i}`);
  const answers = await Promise.all(urls.map((url) => ask(worker.port, [url])));
  expect(answers).toEqual(urls.map((url) => [`service: ${url}`]));
  expect(worker.accepted.count).toBe(urls.length);
  const stats = await worker.stats();
  expect(stats).toMatchObject({ handedOff: 0, connections: 0, paused: 1, accepting: false });
});

test('a worker keeps no more than its share, and accepts again once below it', async () => {
  const share = 4;
  const worker = await startWorker(cleanup, share, { serviceAccepts: true });
  const sockets = await Promise.all(Array.from({ length: 24 }, () => idle(cleanup, worker.port)));
  // Every connection is someone's: the worker's (at most its share) or the service's.
  await until(
    async () => (await worker.stats()).connections + worker.accepted.count === sockets.length,
    'every connection is accepted',
  );
  const stats = await worker.stats();
  expect(stats.connections).toBeLessThanOrEqual(share);
  expect(stats.handedOff).toBe(0);
  // A larger share (more viewers came): it asks for the handle and takes connections again.
  worker.send({ type: 'share', maxConnections: 1000 });
  await until(async () => (await worker.stats()).accepting, 'the worker accepts again');
  expect((await worker.stats()).paused).toBe(stats.connections === share ? 1 : 0);
});

test('a request the worker reads and hands back reaches the service whole, and so does the one pipelined after it', async () => {
  const worker = await startWorker(cleanup, Infinity);
  const pairs = Array.from({ length: 20 }, (_, i) => [`/api/stream?n=${i}`, `/hls/stream.m3u8?then=${i}`]);
  const answers = await Promise.all(pairs.map((urls) => ask(worker.port, urls)));
  expect(answers).toEqual(pairs.map((urls) => urls.map((url) => `service: ${url}`)));
  const stats = await worker.stats();
  expect(stats.handedOff).toBe(pairs.length);
  expect(stats.connections).toBe(0);
});

test('connections made while the worker starts (the handle on its way) are answered once it runs', async () => {
  const worker = await startWorker(cleanup, Infinity, { early: true });
  const urls = Array.from({ length: 20 }, (_, i) => `/api/stream?early=${i}`);
  const answers = await Promise.all(urls.map((url) => ask(worker.port, [url])));
  expect(answers).toEqual(urls.map((url) => [`service: ${url}`]));
  expect((await worker.stats()).handedOffBy.request).toBe(urls.length);
});
