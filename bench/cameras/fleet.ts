/**
 * One step's cast: a real Mosquitto, the web service (LL-HLS, its default) and `count` cameras that
 * are not ours (test/helpers/foreign-camera.ts: plain ffmpeg behind the MQTT contract). `cam1` is the
 * service's default camera (CAMERA_ID, UDP_LISTEN); cam2… announce themselves on the broker and are
 * discovered, each given a port of UDP_PORT_RANGE, which the service names in its start commands.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { connectAsync } from 'mqtt';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForeignCamera } from '../../test/helpers/foreign-camera.js';
import { startMosquitto } from '../../test/helpers/mosquitto.js';
import { freeTcpPort, freeUdpPort } from '../../test/helpers/ports.js';
import { runNode, type ManagedProcess } from '../../test/helpers/processes.js';
import { json, startSystem } from '../../test/helpers/system.js';
import { GiveUp, waitFor } from '../../test/helpers/wait.js';
import type { Teardown } from '../lib/teardown.js';
import { FOREIGN_VIDEO, STEP_TIMEOUT_MS } from '../systems/common.js';

/** The cameras' picture: the benches' foreign camera, without the capture-time stamp (no viewer reads it here). */
export const CAMERA_VIDEO = { ...FOREIGN_VIDEO, stamp: false };

const DEFAULT_CAMERA = 'cam1';

export const cameraIds = (count: number) => Array.from({ length: count }, (_, i) => `cam${i + 1}`);

/** What the bench needs of a running web service (test/helpers/system.ts's System is one). */
export interface Service {
  readonly baseUrl: string;
  readonly mqttUrl: string;
  readonly web: ManagedProcess;
  api(path: string): Promise<{ status: number; body: unknown }>;
}

/** A camera's routes: the per-camera API, or the first contract's (the default camera's, the only ones before many cameras). */
export interface Routes {
  readonly name: string;
  command(cameraId: string, action: 'start' | 'stop'): string;
  info(cameraId: string): string;
  playlist(cameraId: string): string;
}

export const PER_CAMERA: Routes = {
  name: '/api/cameras/<id>/start, /hls/<id>/stream.m3u8',
  command: (id, action) => `/api/cameras/${id}/${action}`,
  info: (id) => `/api/cameras/${id}`,
  playlist: (id) => `/hls/${id}/stream.m3u8`,
};

export const FIRST_CONTRACT: Routes = {
  name: '/api/stream/start, /hls/stream.m3u8',
  command: (_id, action) => `/api/stream/${action}`,
  info: () => '/api/stream',
  playlist: () => '/hls/stream.m3u8',
};

export interface Fleet {
  readonly system: Service;
  readonly routes: Routes;
  readonly cameras: Map<string, ForeignCamera>;
  /** Each camera's segmenter (ffmpeg, the service's child) now, from the service's log. */
  readonly segmenters: Map<string, number>;
  /** Epoch ms of every segmenter start, per camera. */
  readonly segmenterStartedAt: Map<string, number[]>;
  /** Epoch ms of each camera's `streaming` statuses (their `at`: its encoder's first frame). */
  readonly streamingAt: Map<string, number[]>;
  /** Epoch ms of each camera's `starting` statuses (their `at`: it got the start command). */
  readonly startingAt: Map<string, number[]>;
}

/** Every camera's retained status, as any MQTT client sees it: when each began streaming. */
async function watchStatuses(
  teardown: Teardown,
  mqttUrl: string,
  fleet: Pick<Fleet, 'streamingAt' | 'startingAt'>,
) {
  const client = await connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0 });
  teardown.add(() => client.endAsync(true), 'the status watcher');
  client.on('message', (topic, payload) => {
    const cameraId = /^cameras\/([^/]+)\/status$/.exec(topic)?.[1];
    try {
      const status = JSON.parse(payload.toString()) as { state?: string; at?: string };
      const at = Date.parse(status.at ?? '');
      const into =
        status.state === 'streaming'
          ? fleet.streamingAt
          : status.state === 'starting'
            ? fleet.startingAt
            : undefined;
      if (!cameraId || !into || !Number.isFinite(at)) return;
      into.set(cameraId, [...(into.get(cameraId) ?? []), at]);
    } catch {
      // not JSON (an empty retained message clears a status)
    }
  });
  await client.subscribeAsync('cameras/+/status', { qos: 1 });
}

/** Binds `count` consecutive UDP ports on loopback; returns the first, all released again. */
async function freeUdpRange(count: number, avoid: number): Promise<number> {
  const bind = (port: number) =>
    new Promise<Socket | undefined>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(undefined));
      socket.bind(port, '127.0.0.1', () => resolve(socket));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 40_000);
    const held: Socket[] = [];
    for (let port = first; port < first + count && port !== avoid; port++) {
      const socket = await bind(port);
      if (!socket) break;
      held.push(socket);
    }
    await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    if (held.length === count) return first;
  }
  throw new Error(`no ${count} consecutive free UDP ports on 127.0.0.1`);
}

/** Reads the service's JSON log lines for `segmenter running` (its pid, its camera). */
function watchSegmenters(system: Service, fleet: Pick<Fleet, 'segmenters' | 'segmenterStartedAt'>): void {
  const lines = createInterface({ input: system.web.proc.stdout! });
  lines.on('line', (line) => {
    if (!line.includes('segmenter running')) return;
    try {
      const entry = JSON.parse(line) as { msg?: string; camera?: string; pid?: number };
      if (entry.msg !== 'segmenter running' || !entry.pid) return;
      // A service from before many cameras names no camera: it has only the default one.
      const camera = entry.camera ?? DEFAULT_CAMERA;
      fleet.segmenters.set(camera, entry.pid);
      fleet.segmenterStartedAt.set(camera, [...(fleet.segmenterStartedAt.get(camera) ?? []), Date.now()]);
    } catch {
      // not a JSON line
    }
  });
}

/**
 * A service built elsewhere (`cli`: its apps/web-service/dist/server.js), as startSystem starts ours:
 * a Mosquitto of its own, a fresh HLS_DIR, loopback ports, the same environment.
 */
async function startOtherService(
  teardown: Teardown,
  cli: string,
  env: Record<string, string>,
): Promise<Service> {
  const hlsDir = await mkdtemp(join(tmpdir(), 'camstream-test-hls-'));
  teardown.add(() => rm(hlsDir, { recursive: true, force: true }), 'the HLS folder');
  const mosquitto = await startMosquitto();
  teardown.add(() => mosquitto.stop(), 'Mosquitto');
  const mqttUrl = `mqtt://127.0.0.1:${mosquitto.port}`;
  const port = await freeTcpPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const web = runNode('web', cli, {
    HOST: '127.0.0.1',
    PORT: String(port),
    MQTT_URL: mqttUrl,
    HLS_DIR: hlsDir,
    ...env,
  });
  teardown.add(() => web.stop(), 'the web service');
  await waitFor(`the web service (${cli}) on ${baseUrl}`, async () => {
    if (web.proc.exitCode !== null) throw new GiveUp(`the web service exited:\n${web.output()}`);
    return (await fetch(`${baseUrl}/api/stream`)).ok;
  });
  const api = async (path: string) => {
    const response = await fetch(`${baseUrl}${path}`);
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) as unknown };
    } catch {
      return { status: response.status, body: text };
    }
  };
  return { baseUrl, mqttUrl, web, api };
}

/**
 * `count` cameras on a fresh service and broker. `baselineCli`: run that service instead of ours (a
 * build from before many cameras: one camera, the first contract's routes).
 */
export async function startFleet(
  teardown: Teardown,
  count: number,
  baselineCli?: string,
  extraEnv: Record<string, string> = {},
): Promise<Fleet> {
  const udpPort = await freeUdpPort();
  const first = await freeUdpRange(Math.max(1, count - 1), udpPort);
  const env = {
    LOG_LEVEL: 'info',
    HLS_MODE: 'll',
    CAMERA_ID: DEFAULT_CAMERA,
    UDP_LISTEN: `udp://127.0.0.1:${udpPort}`,
    CAMERA_DISCOVERY: 'on',
    UDP_PORT_RANGE: `${first}-${first + Math.max(1, count - 1) - 1}`,
    ...extraEnv,
  };
  if (baselineCli !== undefined && count !== 1) throw new Error('a baseline service serves one camera');
  const system =
    baselineCli === undefined
      ? await startSystem(teardown, { broker: 'mosquitto', agent: false, webEnv: env })
      : await startOtherService(teardown, baselineCli, env);
  const fleet: Fleet = {
    system,
    routes: baselineCli === undefined ? PER_CAMERA : FIRST_CONTRACT,
    cameras: new Map(),
    segmenters: new Map(),
    segmenterStartedAt: new Map(),
    streamingAt: new Map(),
    startingAt: new Map(),
  };
  watchSegmenters(system, fleet);
  await watchStatuses(teardown, system.mqttUrl, fleet);
  const ids = cameraIds(count);
  await Promise.all(
    ids.map(async (cameraId, i) => {
      const camera = await ForeignCamera.connect({
        ...CAMERA_VIDEO,
        mqttUrl: system.mqttUrl,
        cameraId,
        // The default camera's port; the discovered ones are told theirs in each start command (a
        // start without a target would send to the discard port, and fail as it should).
        target: i === 0 ? `udp://127.0.0.1:${udpPort}` : 'udp://127.0.0.1:9',
      });
      teardown.add(() => camera.close(), `camera ${cameraId}`);
      fleet.cameras.set(cameraId, camera);
    }),
  );
  await waitFor(
    `the service to see ${ids.join(', ')} idle`,
    async () => {
      const states = await Promise.all(
        ids.map(
          async (id) =>
            ((await system.api(fleet.routes.info(id))).body as { camera?: { state?: string } | null }).camera
              ?.state,
        ),
      );
      return states.every((state) => state === 'idle');
    },
    { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 200 },
  );
  return fleet;
}

/** `POST` a start or stop on `fleet`'s routes: the status, whether it answered as the contract says, and the time. */
export async function command(
  fleet: Fleet,
  cameraId: string,
  action: 'start' | 'stop',
): Promise<{ at: number; ms: number; ok: boolean; status?: number; error?: string }> {
  const at = Date.now();
  const began = performance.now();
  try {
    const response = await fetch(`${fleet.system.baseUrl}${fleet.routes.command(cameraId, action)}`, {
      ...json(),
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    });
    const body = (await response.json().catch(() => undefined)) as
      { state?: string; message?: string } | undefined;
    const ms = performance.now() - began;
    const ok = response.status === 200 && body?.state === (action === 'start' ? 'live' : 'idle');
    return {
      at,
      ms,
      ok,
      status: response.status,
      ...(!ok && { error: `${response.status} ${body?.message ?? JSON.stringify(body)}` }),
    };
  } catch (err) {
    return { at, ms: performance.now() - began, ok: false, error: (err as Error).message };
  }
}
