/**
 * The whole system as a user runs it: the web service and a camera agent on the test source, each
 * its real CLI from dist/, configured through environment variables only; the broker is a real
 * Mosquitto or the service's embedded one.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cleanup } from './cleanup.js';
import { tempDir } from './temp-dir.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';
import { freeTcpPort, freeUdpPort } from './ports.js';
import { runNode, segmentersOf, type ManagedProcess } from './processes.js';
import { GiveUp, waitFor } from './wait.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const SERVICE_CLI = join(ROOT, 'apps/web-service/dist/server.js');
export const AGENT_CLI = join(ROOT, 'apps/camera-agent/dist/main.js');

export interface SystemOptions {
  broker: 'mosquitto' | 'embedded';
  /** Start the agent too (default true). */
  agent?: boolean;
  webEnv?: Record<string, string>;
  agentEnv?: Record<string, string>;
  /** With AUTH_TOKENS in webEnv: an operator token, sent as Bearer by the readiness checks and api(). */
  token?: string;
}

export interface System {
  readonly baseUrl: string;
  readonly mqttPort: number;
  readonly mqttUrl: string;
  readonly hlsDir: string;
  readonly udpPort: number;
  web: ManagedProcess;
  agent: ManagedProcess | undefined;
  readonly mosquitto: Mosquitto | undefined;
  /** Starts the web service again (after it was stopped or killed) with the same settings. */
  startWeb(): Promise<ManagedProcess>;
  /** Starts (or restarts) the agent; `env` adds to (or overrides) `agentEnv`. */
  startAgent(env?: Record<string, string>): Promise<ManagedProcess>;
  hlsFiles(): Promise<string[]>;
  /**
   * PIDs of the service's segmenters, in either HLS_MODE: ffmpeg listening on the UDP port (in
   * LL-HLS mode its command line does not name HLS_DIR).
   */
  segmenterPids(): Promise<number[]>;
  /** Fetch against the service; JSON body helpers. */
  api(path: string, init?: RequestInit): Promise<{ status: number; body: unknown; headers: Headers }>;
}

export async function startSystem(cleanup: Cleanup, options: SystemOptions): Promise<System> {
  const hlsDir = await tempDir(cleanup, 'camstream-test-hls-');

  let mosquitto: Mosquitto | undefined;
  let mqttPort: number;
  if (options.broker === 'mosquitto') {
    mosquitto = await startMosquitto();
    cleanup.add(() => mosquitto!.stop());
    mqttPort = mosquitto.port;
  } else {
    mqttPort = await freeTcpPort();
  }
  const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  const httpPort = await freeTcpPort();
  const udpPort = await freeUdpPort();
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const authorization: Record<string, string> =
    options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };

  const startWeb = async () => {
    const web = runNode('web', SERVICE_CLI, {
      HOST: '127.0.0.1',
      PORT: String(httpPort),
      ...(mosquitto ? { MQTT_URL: mqttUrl } : { EMBEDDED_BROKER_PORT: String(mqttPort) }),
      UDP_LISTEN: `udp://127.0.0.1:${udpPort}`,
      HLS_DIR: hlsDir,
      LOG_LEVEL: 'info',
      ...options.webEnv,
    });
    cleanup.add(() => web.stop());
    await waitFor(`the web service on ${baseUrl}\n${web.output()}`, async () => {
      if (web.proc.exitCode !== null) throw new GiveUp(`web service exited:\n${web.output()}`);
      return (await fetch(`${baseUrl}/api/stream`, { headers: authorization })).ok;
    });
    return web;
  };
  const web = await startWeb();

  const api: System['api'] = async (path, init) => {
    const response = await fetch(`${baseUrl}${path}`, {
      ...init,
      headers: { ...authorization, ...(init?.headers as Record<string, string> | undefined) },
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body, headers: response.headers };
  };

  const system: System = {
    baseUrl,
    mqttPort,
    mqttUrl,
    hlsDir,
    udpPort,
    web,
    agent: undefined,
    mosquitto,
    async startWeb() {
      await system.web.stop();
      system.web = await startWeb();
      return system.web;
    },
    async startAgent(env = {}) {
      await system.agent?.stop();
      const agent = runNode('agent', AGENT_CLI, {
        MQTT_URL: mqttUrl,
        CAMERA_SOURCE: 'test',
        UDP_TARGET: `udp://127.0.0.1:${udpPort}`,
        LOG_LEVEL: 'info',
        ...options.agentEnv,
        ...env,
      });
      cleanup.add(() => agent.stop());
      system.agent = agent;
      // The service hears the agent's retained `idle` once it is connected.
      await waitFor(`the agent to report idle\n${agent.output()}`, async () => {
        if (agent.proc.exitCode !== null) throw new GiveUp(`agent exited:\n${agent.output()}`);
        const { body } = await api('/api/stream');
        return (body as { camera?: { state?: string } | null }).camera?.state === 'idle';
      });
      return agent;
    },
    hlsFiles: async () => (await readdir(hlsDir)).sort(),
    segmenterPids: () => segmentersOf(system.web.proc.pid!),
    api,
  };
  if (options.agent !== false) await system.startAgent();
  return system;
}

export const json = (body: unknown = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
