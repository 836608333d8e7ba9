/** A service app for a test: fresh temp HLS folder, port 0 everywhere, closed by the cleanup. */
import type { FastifyInstance } from 'fastify';
import { buildApp, type BuildAppOptions } from '../../src/app.js';
import { loadServiceConfig, type ServiceConfig } from '../../src/config.js';
import type { Cleanup } from '../../../../test/helpers/cleanup.js';
import { tempDir } from '../../../../test/helpers/temp-dir.js';
import { freeUdpPort } from '../../../../test/helpers/ports.js';
import { processesMatching, segmentersOf } from '../../../../test/helpers/processes.js';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly config: ServiceConfig;
  readonly hlsDir: string;
  /** PIDs of this app's segmenters (ffmpeg reading the ingest's stream), in either HLS_MODE. */
  segmenterPids(): Promise<number[]>;
}

export async function startTestApp(
  cleanup: Cleanup,
  env: Record<string, string> = {},
  options: BuildAppOptions & { listen?: boolean } = {},
): Promise<TestApp> {
  const hlsDir = await tempDir(cleanup, 'camstream-ws-hls-');
  const udpListen = `udp://127.0.0.1:${await freeUdpPort()}`;
  // The app runs in this process: its segmenters are ffmpeg children reading stdin (one app at a time
  // per test file); in plain HLS mode their command line names HLS_DIR, also once orphaned.
  const segmenterPids = async () => [
    ...new Set([...(await processesMatching(hlsDir)), ...(await segmentersOf(process.pid))]),
  ];
  // Runs after app.close(): no segmenter of this test may outlive its app.
  cleanup.add(async () => {
    const left = await segmenterPids();
    if (left.length > 0) throw new Error(`ffmpeg processes left behind: ${left.join(', ')}`);
  });
  const config = loadServiceConfig({
    PORT: '0',
    EMBEDDED_BROKER_PORT: '0',
    HLS_DIR: hlsDir,
    UDP_LISTEN: udpListen,
    LOG_LEVEL: process.env.CAMSTREAM_TEST_VERBOSE ? 'debug' : 'warn',
    ...env,
  });
  const app = buildApp(config, { logger: Boolean(process.env.CAMSTREAM_TEST_VERBOSE), ...options });
  cleanup.add(() => app.close());
  if (options.listen) await app.listen({ host: '127.0.0.1', port: 0 });
  else await app.ready();
  return { app, config, hlsDir, segmenterPids };
}
