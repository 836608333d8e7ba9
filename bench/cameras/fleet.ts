/**
 * One step's cast: a real Mosquitto, the web service (LL-HLS, its default) and `count` cameras that
 * are not ours (test/helpers/foreign-camera.ts: plain ffmpeg behind the MQTT contract). `cam1` is the
 * service's default camera (CAMERA_ID, UDP_LISTEN); cam2… announce themselves on the broker and are
 * discovered, each given a port of UDP_PORT_RANGE, which the service names in its start commands.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { connectAsync } from 'mqtt';
import { ForeignCamera } from '../../test/helpers/foreign-camera.js';
import { freeUdpPort } from '../../test/helpers/ports.js';
import { json, startSystem, type System } from '../../test/helpers/system.js';
import { waitFor } from '../../test/helpers/wait.js';
import type { Teardown } from '../lib/teardown.js';
import { FOREIGN_VIDEO, STEP_TIMEOUT_MS } from '../systems/common.js';

/** The cameras' picture: the benches' foreign camera, without the capture-time stamp (no viewer reads it here). */
export const CAMERA_VIDEO = { ...FOREIGN_VIDEO, stamp: false };

export const cameraIds = (count: number) => Array.from({ length: count }, (_, i) => `cam${i + 1}`);

export interface Fleet {
  readonly system: System;
  readonly cameras: Map<string, ForeignCamera>;
  /** Each camera's segmenter (ffmpeg, the service's child) now, from the service's log. */
  readonly segmenters: Map<string, number>;
  /** Epoch ms of every segmenter start, per camera. */
  readonly segmenterStartedAt: Map<string, number[]>;
  /** Epoch ms of each camera's `streaming` statuses (their `at`: its encoder's first frame). */
  readonly streamingAt: Map<string, number[]>;
}

/** Every camera's retained status, as any MQTT client sees it: when each began streaming. */
async function watchStatuses(teardown: Teardown, mqttUrl: string, streamingAt: Map<string, number[]>) {
  const client = await connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0 });
  teardown.add(() => client.endAsync(true), 'the status watcher');
  client.on('message', (topic, payload) => {
    const cameraId = /^cameras\/([^/]+)\/status$/.exec(topic)?.[1];
    try {
      const status = JSON.parse(payload.toString()) as { state?: string; at?: string };
      const at = Date.parse(status.at ?? '');
      if (!cameraId || status.state !== 'streaming' || !Number.isFinite(at)) return;
      streamingAt.set(cameraId, [...(streamingAt.get(cameraId) ?? []), at]);
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
function watchSegmenters(system: System, fleet: Pick<Fleet, 'segmenters' | 'segmenterStartedAt'>): void {
  const lines = createInterface({ input: system.web.proc.stdout! });
  lines.on('line', (line) => {
    if (!line.includes('segmenter running')) return;
    try {
      const entry = JSON.parse(line) as { msg?: string; camera?: string; pid?: number };
      if (entry.msg !== 'segmenter running' || !entry.camera || !entry.pid) return;
      fleet.segmenters.set(entry.camera, entry.pid);
      fleet.segmenterStartedAt.set(entry.camera, [
        ...(fleet.segmenterStartedAt.get(entry.camera) ?? []),
        Date.now(),
      ]);
    } catch {
      // not a JSON line
    }
  });
}

export async function startFleet(teardown: Teardown, count: number): Promise<Fleet> {
  const udpPort = await freeUdpPort();
  const first = await freeUdpRange(Math.max(1, count - 1), udpPort);
  const system = await startSystem(teardown, {
    broker: 'mosquitto',
    agent: false,
    webEnv: {
      LOG_LEVEL: 'info',
      HLS_MODE: 'll',
      CAMERA_ID: 'cam1',
      UDP_LISTEN: `udp://127.0.0.1:${udpPort}`,
      CAMERA_DISCOVERY: 'on',
      UDP_PORT_RANGE: `${first}-${first + Math.max(1, count - 1) - 1}`,
    },
  });
  const fleet: Fleet = {
    system,
    cameras: new Map(),
    segmenters: new Map(),
    segmenterStartedAt: new Map(),
    streamingAt: new Map(),
  };
  watchSegmenters(system, fleet);
  await watchStatuses(teardown, system.mqttUrl, fleet.streamingAt);
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
    `the service to list ${ids.join(', ')} as idle`,
    async () => {
      const { body } = await system.api('/api/cameras');
      const listed = (body as { cameras?: { cameraId: string; camera: { state?: string } | null }[] })
        .cameras;
      return ids.every((id) => listed?.find((c) => c.cameraId === id)?.camera?.state === 'idle');
    },
    { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 200 },
  );
  return fleet;
}

/** `POST /api/cameras/<id>/<action>`: the status, whether it answered as the contract says, and the time. */
export async function command(
  system: System,
  cameraId: string,
  action: 'start' | 'stop',
): Promise<{ at: number; ms: number; ok: boolean; status?: number; error?: string }> {
  const at = Date.now();
  const began = performance.now();
  try {
    const response = await fetch(`${system.baseUrl}/api/cameras/${cameraId}/${action}`, {
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
