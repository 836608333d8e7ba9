#!/usr/bin/env node
/**
 * The web service's command line: configuration from the environment, listen, stop on SIGINT, SIGTERM
 * or SIGHUP (the segmenter stopped and the files removed before exiting), or when the supervisor that
 * spawned it with an IPC channel (`npm start`'s scripts/start.mjs) is gone.
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
async function shutdown(why: NodeJS.Signals | 'disconnect'): Promise<void> {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal: why }, 'shutting down');
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
// `on`, not `once`: a second signal (Ctrl-C reaches the group and npm forwards it again) must not kill
// the process half-way through stopping ffmpeg.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => void shutdown(signal));
// Spawned with an IPC channel (by scripts/start.mjs): the channel closes when the supervisor exits, even
// SIGKILLed, and the service must not outlive it holding the ports. Without one (systemd, `npm start -w`)
// nothing changes.
if (process.channel) process.once('disconnect', () => void shutdown('disconnect'));

/**
 * Connections the kernel queues for the service to accept (Linux caps it at net.core.somaxconn,
 * 4096 on current kernels). Node's default, 511, overflowed when viewers arrived by the thousand
 * while the loop was busy releasing held requests: each dropped SYN is retried a second or more
 * later, and a viewer's first request timed out (bench:viewers, 2000 viewers: 16,656 overflows).
 */
const LISTEN_BACKLOG = 4096;

try {
  await app.listen({ host: config.host, port: config.port, backlog: LISTEN_BACKLOG });
  app.log.info(
    { mqtt: app.camstream.mqttUrl, udp: config.udpListen, hlsDir: config.hlsDir },
    `camstream web service ready: open ${app.listeningOrigin}/`,
  );
} catch (err) {
  app.log.error({ err }, 'could not start');
  await app.close().catch(() => {});
  process.exit(1);
}
