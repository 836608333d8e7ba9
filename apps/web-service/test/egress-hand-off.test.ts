/**
 * An egress worker's hand-off (src/egress/worker.ts, connection.ts), without the app: the test
 * forks the worker, gives it a listening handle that only it accepts on (the test closes its own
 * copy), and plays the service's part of a hand-off (unshift the bytes read, then emit the socket
 * as a new connection of an HTTP server that answers every request). Every request a client sends,
 * first, pipelined or on a connection the worker hands over at once (past its fair share), must
 * reach that server, and the worker must forget the connections it handed over. Connections made
 * before the worker has seen the handle (it is still starting) are the worker's too.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
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
  stats(): Promise<WorkerStats>;
}

/** `early`: the handle is sent at once, as to a worker forked again while the service serves. */
async function startWorker(cleanup: Cleanup, maxConnections: number, early = false): Promise<Harness> {
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
  child.on('message', (message: FromWorker, handle: unknown) => {
    if (message.type !== 'hand-off' || !handle) return;
    const socket = handle as Socket;
    if (message.head.length > 0) socket.unshift(message.head);
    service.emit('connection', socket);
  });
  // Its first report: its listeners are in place (the service forks its workers before it serves).
  if (!early) await new Promise((resolve) => child.once('message', resolve));
  const listening = createServer();
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
  await new Promise((resolve) => listening.close(resolve));
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
  return { port, child, answered, stats };
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

test('a connection handed over at once (past the fair share) reaches the service with the request its client sent first', async () => {
  const worker = await startWorker(cleanup, 0);
  const urls = Array.from({ length: 40 }, (_, i) => `/hls/stream.m3u8?n=${i}`);
  const answers = await Promise.all(urls.map((url) => ask(worker.port, [url])));
  expect(answers).toEqual(urls.map((url) => [`service: ${url}`]));
  const stats = await worker.stats();
  expect(stats.handedOff).toBe(urls.length);
  expect(stats.handedOffBy.share).toBe(urls.length);
  expect(stats.connections).toBe(0);
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
  const worker = await startWorker(cleanup, 0, true);
  const urls = Array.from({ length: 20 }, (_, i) => `/hls/stream.m3u8?early=${i}`);
  const answers = await Promise.all(urls.map((url) => ask(worker.port, [url])));
  expect(answers).toEqual(urls.map((url) => [`service: ${url}`]));
  expect((await worker.stats()).handedOffBy.share).toBe(urls.length);
});
