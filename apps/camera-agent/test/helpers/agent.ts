/** An in-process agent on a real broker, with a UDP listener as its default target and a watcher. */
import { randomUUID } from 'node:crypto';
import type { Cleanup } from '../../../../test/helpers/cleanup.js';
import { startAgent, type Agent } from '../../src/agent.js';
import { loadAgentConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { listenUdp, type UdpListener } from './udp.js';
import { watchCamera, type Watcher } from './mqtt-watch.js';

export interface AgentUnderTest {
  readonly agent: Agent;
  readonly cameraId: string;
  readonly listener: UdpListener;
  readonly watcher: Watcher;
  /** Everything the agent logged (printed on failure by the caller when useful). */
  readonly log: string[];
}

/** A logger that keeps lines for assertions; CAMSTREAM_TEST_VERBOSE=1 also prints them. */
export function memoryLogger(lines: string[]): Logger {
  return createLogger({
    level: 'debug',
    write: (line) => {
      lines.push(line);
      if (process.env.CAMSTREAM_TEST_VERBOSE) process.stderr.write(`[agent] ${line}`);
    },
  });
}

export async function startTestAgent(
  cleanup: Cleanup,
  brokerUrl: string,
  env: Record<string, string> = {},
): Promise<AgentUnderTest> {
  // A camera id of its own: retained statuses of other tests on the same broker do not interfere.
  const cameraId = `cam-${randomUUID().slice(0, 8)}`;
  const listener = await listenUdp(cleanup);
  const watcher = await watchCamera(cleanup, brokerUrl, cameraId);
  const config = loadAgentConfig({
    MQTT_URL: brokerUrl,
    CAMERA_ID: cameraId,
    UDP_TARGET: listener.target,
    VIDEO_WIDTH: '320',
    VIDEO_HEIGHT: '240',
    ...env,
  });
  const log: string[] = [];
  const agent = await startAgent(config, { logger: memoryLogger(log) });
  cleanup.add(() => agent.close());
  return { agent, cameraId, listener, watcher, log };
}
