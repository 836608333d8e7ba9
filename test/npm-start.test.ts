/**
 * `npm start` stops when told. SIGTERM, SIGINT or SIGHUP to npm, or SIGTERM to its whole process group
 * (what `docker stop`, systemd, CI runners, process managers and a closed terminal send), stops npm,
 * scripts/start.mjs, the web service, the agent and every ffmpeg they spawned within 10 s, and frees
 * the ports. Before the fix npm passed SIGTERM to a `sh -c` only, and everything below it stayed.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { useCleanup } from './helpers/cleanup.js';
import { freeTcpPort, freeUdpPort } from './helpers/ports.js';
import {
  descendants,
  processStat,
  processesWithEnv,
  stillRunning,
  type ProcessStat,
} from './helpers/processes.js';
import { json, ROOT } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { GiveUp, waitFor } from './helpers/wait.js';

/** The promise made in README.md's `npm start` section. */
const STOP_WITHIN_MS = 10_000;

const ready = haveTools('ffmpeg');

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

/** The command line of a recorded process, for failure messages and to tell them apart. */
async function describeProcess(stat: ProcessStat): Promise<string> {
  const cmdline = await readFile(`/proc/${stat.pid}/cmdline`, 'utf8').catch(() => '');
  return `${stat.pid} ${cmdline.replaceAll('\0', ' ').slice(0, 100)}`;
}

describe.runIf(ready)('npm start stops when told', () => {
  const cleanup = useCleanup();

  test.each([
    ['SIGTERM to npm (docker stop, systemd, a process manager)', 'npm', 'SIGTERM'],
    ['SIGINT to npm', 'npm', 'SIGINT'],
    ['SIGHUP to npm (which npm does not forward)', 'npm', 'SIGHUP'],
    ['SIGTERM to the whole process group (a CI runner)', 'group', 'SIGTERM'],
  ] as const)(
    '%s: npm, start.mjs, the service, the agent and every ffmpeg are gone within 10 s, the ports free',
    async (_name, target, signal) => {
      // Every process below npm inherits the marker, so cleanup finds what a failure left behind even
      // after it was reparented.
      const marker = `CAMSTREAM_NPM_START_TEST=${randomUUID()}`;
      cleanup.add(async () => {
        for (const pid of await processesWithEnv(marker)) process.kill(pid, 'SIGKILL');
      });
      const hlsDir = await mkdtemp(join(tmpdir(), 'camstream-npm-start-'));
      cleanup.add(() => rm(hlsDir, { recursive: true, force: true }));
      const [httpPort, brokerPort, udpPort] = [await freeTcpPort(), await freeTcpPort(), await freeUdpPort()];
      const baseUrl = `http://127.0.0.1:${httpPort}`;

      const env: NodeJS.ProcessEnv = {
        ...process.env,
        [marker.split('=')[0]!]: marker.split('=')[1],
        HOST: '127.0.0.1',
        PORT: String(httpPort),
        EMBEDDED_BROKER_PORT: String(brokerPort),
        UDP_LISTEN: `udp://127.0.0.1:${udpPort}`,
        UDP_TARGET: `udp://127.0.0.1:${udpPort}`,
        HLS_DIR: hlsDir,
        VIDEO_WIDTH: '320',
        VIDEO_HEIGHT: '240',
      };
      delete env.MQTT_URL; // the demo's own broker, on the free port above
      // Its own process group, as a shell gives a job: the group signal reaches npm and what it runs.
      const npm = spawn('npm', ['start'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let output = '';
      const keep = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.length > 200_000) output = output.slice(-100_000);
      };
      npm.stdout.on('data', keep);
      npm.stderr.on('data', keep);
      // After npm's exit and once every holder of its stdout and stderr (start.mjs) has closed them.
      const npmClosed = new Promise((resolve) => npm.once('close', resolve));

      // npm start builds first (tsc -b, vite build): allow for it on a busy machine.
      await waitFor(
        'the demo to answer with the camera idle',
        async () => {
          if (npm.exitCode !== null) throw new GiveUp(`npm start exited:\n${output}`);
          const response = await fetch(`${baseUrl}/api/stream`);
          const body = (await response.json()) as { camera?: { state?: string } | null };
          return body.camera?.state === 'idle';
        },
        { timeoutMs: 90_000, intervalMs: 200 },
      );
      const started = await fetch(`${baseUrl}/api/stream/start`, json());
      expect(started.status, output).toBe(200);

      // Everything there is to stop, recorded before the signal (npm itself included).
      const recorded = [(await processStat(npm.pid!))!, ...(await descendants(npm.pid!))];
      const names = await Promise.all(recorded.map(describeProcess));
      const count = (needle: string) => names.filter((name) => name.includes(needle)).length;
      expect(count('scripts/start.mjs'), names.join('\n')).toBe(1);
      expect(count('web-service/dist/server.js'), names.join('\n')).toBe(1);
      expect(count('camera-agent/dist/main.js'), names.join('\n')).toBe(1);
      // The agent's encoder and the service's segmenter.
      expect(count('ffmpeg'), names.join('\n')).toBeGreaterThanOrEqual(2);

      const signalledAt = Date.now();
      process.kill(target === 'group' ? -npm.pid! : npm.pid!, signal);

      await waitFor(
        `every process to stop within ${STOP_WITHIN_MS} ms`,
        async () => {
          const left = [];
          for (const stat of recorded) if (await stillRunning(stat)) left.push(await describeProcess(stat));
          if (left.length > 0) throw new Error(`still running:\n${left.join('\n')}\n${output.slice(-3000)}`);
          return npm.exitCode !== null || npm.signalCode !== null;
        },
        { timeoutMs: STOP_WITHIN_MS - (Date.now() - signalledAt), intervalMs: 50 },
      );
      expect(await canListenTcp(httpPort), `HTTP port ${httpPort} is free`).toBe(true);
      expect(await canListenTcp(brokerPort), `broker port ${brokerPort} is free`).toBe(true);
      expect(await canBindUdp(udpPort), `UDP port ${udpPort} is free`).toBe(true);
      expect(await processesWithEnv(marker), 'nothing started by npm start is left').toEqual([]);
      await npmClosed;
      // Stopped, not killed: the supervisor stopped the agent (it published `offline`), then the service.
      expect(output).toContain('stopping the demo');
      const agentOffline = output.indexOf('state offline');
      const serviceStopping = output.indexOf('"msg":"shutting down"');
      expect(agentOffline, output).toBeGreaterThan(0);
      expect(serviceStopping, output).toBeGreaterThan(agentOffline);
    },
    150_000,
  );
});
