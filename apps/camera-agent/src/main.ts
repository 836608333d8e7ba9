#!/usr/bin/env node
/**
 * `camstream-agent`: configuration from the environment, runs until SIGINT/SIGTERM/SIGHUP (or until
 * the supervisor that spawned it with an IPC channel, `npm start`'s scripts/start.mjs, is gone), then
 * stops the encoder and publishes `offline` before exiting. Exit codes: 0 after a signal,
 * 1 on a runtime failure, 2 on invalid configuration.
 */
import { startAgent, type Agent } from './agent.js';
import { loadAgentConfig, type AgentConfig } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logger.js';

let config: AgentConfig;
try {
  config = loadAgentConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.code}: ${err.message}\n`);
  process.exit(2);
}

const logger = createLogger({ level: config.logLevel });
let agent: Agent | undefined;
let exiting = false;

async function shutdown(code: number, why: string): Promise<void> {
  if (exiting) return;
  exiting = true;
  logger.info(`stopping (${why})`);
  // A stuck shutdown must not keep the process (and systemd) waiting forever.
  setTimeout(() => {
    logger.error('shutdown took too long; exiting anyway');
    process.exit(code || 1);
  }, 12_000).unref();
  try {
    await agent?.close();
  } catch (err) {
    logger.error('error while stopping', { err });
    code ||= 1;
  }
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => void shutdown(0, signal));
}
// The channel closes when the supervisor exits, even SIGKILLed: do not outlive it. Without a channel
// (systemd, `npm start -w`) nothing changes.
if (process.channel) process.once('disconnect', () => void shutdown(0, 'supervisor gone'));
// The supervisor read our log through a pipe; once it is gone every line fails with EPIPE, and an
// unhandled stream error would land in the uncaughtException handler below instead of letting the
// shutdown finish (it then waited for its 12 s timeout).
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
// Close the encoder on the way down even after a bug; pipeline.ts kills it on exit as a last resort.
process.on('uncaughtException', (err) => {
  logger.error('uncaught exception', { err, stack: err.stack });
  void shutdown(1, 'uncaught exception');
});
process.on('unhandledRejection', (reason) => {
  logger.error('unhandled rejection', { err: reason });
  void shutdown(1, 'unhandled rejection');
});

// The URL may carry user:password@; the log never does.
const brokerUrl = new URL(config.mqtt.url);
brokerUrl.username = '';
brokerUrl.password = '';
logger.info(`camera ${config.cameraId}: source ${config.source}, broker ${brokerUrl.href}`, {
  video: config.video,
  udpTarget: config.udpTarget,
  allowedTargets: config.allowedTargets.map((pattern) => pattern.text).join(', '),
});
try {
  const started = await startAgent(config, { logger });
  agent = started;
  started.on('status', (status) => {
    const detail = [status.target && `→ ${status.target}`, status.message].filter(Boolean).join(' ');
    logger.info(`state ${status.state}${detail ? ` ${detail}` : ''}`);
  });
  started.on('fatal', (err) => {
    logger.error(err.message, { code: err.code });
    void shutdown(1, err.code);
  });
  logger.info(`ready: waiting for commands on cameras/${config.cameraId}/control`);
} catch (err) {
  logger.error(`could not start: ${(err as Error).message}`, { err });
  process.exit(1);
}
