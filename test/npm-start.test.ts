/**
 * `npm start` stops when told. SIGTERM, SIGINT or SIGHUP to npm, or SIGTERM to its whole process group
 * (what `docker stop`, systemd, CI runners, process managers and a closed terminal send), stops npm,
 * scripts/start.mjs, the web service, the agent and every ffmpeg they spawned within 10 s, and frees
 * the ports. Before the fix npm passed SIGTERM and SIGINT to a `sh -c` only, died of SIGHUP, and
 * everything below stayed. And if the supervisor itself is SIGKILLed, the apps stop on their own.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { type Cleanup, tempDir, useCleanup } from './helpers/cleanup.js';
import { freeTcpPort, freeUdpPort } from './helpers/ports.js';
import {
  descendants,
  processStat,
  processesWithEnv,
  stillRunning,
  type ProcessStat,
} from './helpers/processes.js';
import { AGENT_CLI, json, ROOT, SERVICE_CLI } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { GiveUp, waitFor } from './helpers/wait.js';

/** The promise made in README.md's `npm start` section. */
const STOP_WITHIN_MS = 10_000;

interface Demo {
  readonly baseUrl: string;
  readonly ports: { http: number; broker: number; udp: number };
  /** Environment for what the test spawns: the ports, and a marker everything below inherits. */
  readonly env: NodeJS.ProcessEnv;
  /** Every process still carrying the marker (reparented or not). */
  leftovers(): Promise<number[]>;
}

async function prepare(cleanup: Cleanup): Promise<Demo> {
  const [markerName, markerValue] = ['CAMSTREAM_NPM_START_TEST', randomUUID()];
  const leftovers = () => processesWithEnv(`${markerName}=${markerValue}`);
  // Registered first: whatever a failure leaves behind is found by its marker and killed.
  cleanup.add(async () => {
    for (const pid of await leftovers()) process.kill(pid, 'SIGKILL');
  });
  const hlsDir = await tempDir(cleanup, 'camstream-npm-start-');
  const ports = { http: await freeTcpPort(), broker: await freeTcpPort(), udp: await freeUdpPort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [markerName]: markerValue,
    HOST: '127.0.0.1',
    PORT: String(ports.http),
    EMBEDDED_BROKER_PORT: String(ports.broker),
    UDP_LISTEN: `udp://127.0.0.1:${ports.udp}`,
    UDP_TARGET: `udp://127.0.0.1:${ports.udp}`,
    HLS_DIR: hlsDir,
    CAMERA_SOURCE: 'test',
    VIDEO_WIDTH: '320',
    VIDEO_HEIGHT: '240',
  };
  delete env.MQTT_URL; // the service's embedded broker, on the free port above
  return { baseUrl: `http://127.0.0.1:${ports.http}`, ports, env, leftovers };
}

interface Launched {
  readonly proc: ChildProcessByStdio<null, Readable, Readable>;
  output(): string;
  /** After the exit, once every holder of its stdout and stderr (its children too) has closed them. */
  readonly closed: Promise<unknown>;
}

/** Its own process group, as a shell gives a job: a group signal reaches it and what it runs. */
function launch(command: string, args: string[], env: NodeJS.ProcessEnv): Launched {
  const proc = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const closed = new Promise((resolve) => proc.once('close', resolve));
  return { proc, output: () => output, closed };
}

async function waitForIdleCamera(demo: Demo, timeoutMs: number, alive: () => string | undefined) {
  await waitFor(
    'the service to answer with the camera idle',
    async () => {
      const died = alive();
      if (died !== undefined) throw new GiveUp(died);
      const body = (await (await fetch(`${demo.baseUrl}/api/stream`)).json()) as {
        camera?: { state?: string } | null;
      };
      return body.camera?.state === 'idle';
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** Everything below `roots` (and the roots), with the service, the agent and both ffmpegs among them. */
async function recordTree(roots: number[]): Promise<{ recorded: ProcessStat[]; names: string }> {
  const recorded: ProcessStat[] = [];
  for (const root of roots) recorded.push((await processStat(root))!, ...(await descendants(root)));
  const names = (await Promise.all(recorded.map(describeProcess))).join('\n');
  const count = (needle: string) => names.split('\n').filter((name) => name.includes(needle)).length;
  expect(count('web-service/dist/server.js'), names).toBe(1);
  expect(count('camera-agent/dist/main.js'), names).toBe(1);
  // The agent's encoder and the service's segmenter.
  expect(count('ffmpeg'), names).toBeGreaterThanOrEqual(2);
  return { recorded, names };
}

/** `pid` and its command line, for failure messages. */
async function describeProcess(stat: ProcessStat): Promise<string> {
  const cmdline = await readFile(`/proc/${stat.pid}/cmdline`, 'utf8').catch(() => '');
  return `${stat.pid} ${cmdline.replaceAll('\0', ' ').slice(0, 100)}`;
}

async function expectAllStopped(demo: Demo, recorded: ProcessStat[], since: number, log: () => string) {
  await waitFor(
    `every process to stop within ${STOP_WITHIN_MS} ms`,
    async () => {
      const left = [];
      for (const stat of recorded) if (await stillRunning(stat)) left.push(await describeProcess(stat));
      if (left.length > 0) throw new Error(`still running:\n${left.join('\n')}\n${log().slice(-3000)}`);
      return true;
    },
    { timeoutMs: STOP_WITHIN_MS - (Date.now() - since), intervalMs: 50 },
  );
  expect(await demo.leftovers(), 'nothing they started is left').toEqual([]);
  expect(await canListenTcp(demo.ports.http), `HTTP port ${demo.ports.http} is free`).toBe(true);
  expect(await canListenTcp(demo.ports.broker), `broker port ${demo.ports.broker} is free`).toBe(true);
  expect(await canBindUdp(demo.ports.udp), `UDP port ${demo.ports.udp} is free`).toBe(true);
}

const canListenTcp = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

const canBindUdp = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });

/** What scripts/start.mjs does for one app, minus the stopping: spawn it with an IPC channel. */
const BARE_SUPERVISOR = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, [process.argv[1]], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
child.stdout.pipe(process.stdout);
child.stderr.pipe(process.stderr);
`;

describe.runIf(haveTools('ffmpeg'))('npm start stops when told', () => {
  const cleanup = useCleanup();

  test.each([
    ['SIGTERM to npm (docker stop, systemd, a process manager)', 'npm', 'SIGTERM'],
    ['SIGINT to npm', 'npm', 'SIGINT'],
    ['SIGHUP to npm (which npm does not forward)', 'npm', 'SIGHUP'],
    ['SIGTERM to the whole process group (a CI runner)', 'group', 'SIGTERM'],
  ] as const)(
    '%s: npm, start.mjs, the service, the agent and every ffmpeg are gone within 10 s, the ports free',
    async (_name, target, signal) => {
      const demo = await prepare(cleanup);
      const npm = launch('npm', ['start'], demo.env);
      // npm start builds first (tsc -b, vite build): allow for it on a busy machine.
      await waitForIdleCamera(demo, 90_000, () =>
        npm.proc.exitCode === null ? undefined : `npm start exited:\n${npm.output()}`,
      );
      expect((await fetch(`${demo.baseUrl}/api/stream/start`, json())).status, npm.output()).toBe(200);

      // Everything there is to stop, recorded before the signal (npm itself included).
      const { recorded, names } = await recordTree([npm.proc.pid!]);
      // (Without `exec` in the start script a `sh -c node scripts/start.mjs` sits above it.)
      expect(names).toContain('node scripts/start.mjs');

      const signalledAt = Date.now();
      process.kill(target === 'group' ? -npm.proc.pid! : npm.proc.pid!, signal);
      await expectAllStopped(demo, recorded, signalledAt, npm.output);
      await npm.closed;
      // Stopped, not killed: the supervisor stopped the agent (it published `offline`), then the service.
      const output = npm.output();
      expect(output).toContain('stopping the demo');
      const agentOffline = output.indexOf('state offline');
      expect(agentOffline, output).toBeGreaterThan(0);
      expect(output.indexOf('"msg":"shutting down"'), output).toBeGreaterThan(agentOffline);
    },
    150_000,
  );

  test('the supervisor SIGKILLed: the service and the agent stop on their own (IPC channel closed, log pipes broken)', async () => {
    const demo = await prepare(cleanup);
    const web = launch(process.execPath, ['-e', BARE_SUPERVISOR, SERVICE_CLI], demo.env);
    // The agent after the broker is up, as start.mjs does (it would retry, with backoff).
    await waitFor('the service to answer', async () => (await fetch(`${demo.baseUrl}/api/stream`)).ok);
    const agent = launch(process.execPath, ['-e', BARE_SUPERVISOR, AGENT_CLI], {
      ...demo.env,
      MQTT_URL: `mqtt://127.0.0.1:${demo.ports.broker}`,
    });
    await waitForIdleCamera(demo, 30_000, () => undefined);
    expect((await fetch(`${demo.baseUrl}/api/stream/start`, json())).status, web.output()).toBe(200);
    const { recorded } = await recordTree([web.proc.pid!, agent.proc.pid!]);

    const killedAt = Date.now();
    web.proc.kill('SIGKILL');
    agent.proc.kill('SIGKILL');
    await expectAllStopped(demo, recorded, killedAt, () => web.output() + agent.output());
  });
});
