#!/usr/bin/env node
/**
 * The web service's command line: configuration from the environment, listen, stop on SIGINT or
 * SIGTERM (the segmenter stopped and the files removed before exiting).
 */
import { buildApp } from './app.js';
import { loadServiceConfig, type ServiceConfig } from './config.js';
import { isServiceError } from './errors.js';

/** A shutdown that hangs (a stuck child, a broker that never answers) must not keep the process. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

let config: ServiceConfig;
try {
  config = loadServiceConfig();
} catch (err) {
  if (!isServiceError(err, 'WEB_ERR_CONFIG')) throw err;
  console.error(`${err.code}: ${err.message}`);
  process.exit(2);
}

const app = buildApp(config);

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'shutting down');
  const timer = setTimeout(() => {
    app.log.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms: exiting anyway`);
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  timer.unref();
  try {
    await app.close();
    process.exit(0);
  } catch (err) {
    app.log.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

try {
  await app.listen({ host: config.host, port: config.port });
  app.log.info(
    { mqtt: app.camstream.mqttUrl, udp: config.udpListen, hlsDir: config.hlsDir },
    `camstream web service ready: open ${app.listeningOrigin}/`,
  );
} catch (err) {
  app.log.error({ err }, 'could not start');
  await app.close().catch(() => {});
  process.exit(1);
}
