// `npm start`: installs what is missing, builds, then runs the demo: the web service (with the
// embedded MQTT broker) and a camera agent on the test source, until Ctrl-C. A child that dies is
// restarted with backoff, so the demo never needs a person to restart it.
//
// Stopping: SIGINT, SIGTERM or SIGHUP, sent to npm, to this process or to the whole process group,
// stops everything within 10 s. package.json runs `exec node scripts/start.mjs`, so this process is
// npm's child and gets the SIGINT and SIGTERM npm forwards (without `exec` they reached only the
// `sh -c` in between, never this process). npm does not forward SIGHUP and dies of it, so losing the
// parent counts as a signal too. The children live in their own process groups and stop
// only when told, in order; an IPC channel to each is their lifeline, so they stop on their own even
// if this process is SIGKILLed.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build, checkNode, ensureNpmPackages, ensureTools, log, root } from './setup.mjs';

// Taken before the (blocking) build: a parent that dies during it must still count as gone.
const parent = process.ppid;

checkNode();
ensureTools(['ffmpeg']);
ensureNpmPackages();
build();

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8080);

const wantedBrokerPort = Number(process.env.EMBEDDED_BROKER_PORT ?? 1883);

/** The wanted port (1883) when it is free; otherwise (a system Mosquitto, say) any free port. */
async function brokerPort() {
  const tryListen = (p) =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(p, '127.0.0.1', () => {
        const { port: bound } = server.address();
        server.close(() => resolve(bound));
      });
    });
  return (await tryListen(wantedBrokerPort)) ?? (await tryListen(0));
}

const mqttPort = process.env.MQTT_URL ? undefined : await brokerPort();
const mqttUrl = process.env.MQTT_URL ?? `mqtt://127.0.0.1:${mqttPort}`;
if (mqttPort !== undefined && mqttPort !== wantedBrokerPort)
  log(`port ${wantedBrokerPort} is taken; the embedded broker uses ${mqttPort}`);

const children = [
  {
    name: 'web',
    color: 35,
    script: join(root, 'apps/web-service/dist/server.js'),
    env: {
      HOST: host,
      PORT: String(port),
      ...(mqttPort !== undefined && { EMBEDDED_BROKER_PORT: String(mqttPort) }),
    },
  },
  {
    name: 'agent',
    color: 33,
    script: join(root, 'apps/camera-agent/dist/main.js'),
    env: { MQTT_URL: mqttUrl, CAMERA_SOURCE: process.env.CAMERA_SOURCE ?? 'test' },
  },
];

/** How long each child may take to stop before it (and its process group) is SIGKILLed: 8 s in all. */
const STOP_GRACE_MS = { agent: 3000, web: 5000 };
/** How often to check that the parent (npm) is still there. */
const PARENT_POLL_MS = 250;

let stopping = false;

// A closed terminal (the usual SIGHUP) or a dead reader makes writes fail with EIO/EPIPE; that must
// not throw in the middle of stopping the children.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

function prefixLines(stream, label) {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) process.stdout.write(`${label} ${line}\n`);
  });
}

function supervise(child) {
  let delay = 500;
  const label = `\x1b[${child.color}m[${child.name}]\x1b[0m`;
  const launch = () => {
    child.restart = undefined;
    if (stopping) return;
    const startedAt = Date.now();
    const proc = spawn(process.execPath, [child.script], {
      cwd: root,
      env: { ...process.env, ...child.env },
      // 'ipc': the lifeline. The child stops when the channel closes, i.e. when this process is gone.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Own process group: Ctrl-C reaches only this supervisor, which stops the children in order.
      detached: true,
    });
    child.proc = proc;
    prefixLines(proc.stdout, label);
    prefixLines(proc.stderr, label);
    proc.on('exit', (code, signal) => {
      child.proc = undefined;
      if (stopping) return;
      if (Date.now() - startedAt > 30_000) delay = 500;
      log(`${child.name} exited (${signal ?? code}); restarting in ${delay} ms`);
      child.restart = setTimeout(launch, delay);
      delay = Math.min(delay * 2, 10_000);
    });
  };
  launch();
}

async function waitForService() {
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/api/stream`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return false;
}

/** SIGTERM, then SIGKILL to the child's whole group (its ffmpeg too) if it is still there after `graceMs`. */
async function stopChild(child, graceMs) {
  clearTimeout(child.restart);
  const proc = child.proc;
  if (!proc) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => {
    log(`${child.name} did not stop within ${graceMs} ms: killing it`);
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      proc.kill('SIGKILL');
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Idempotent: a second signal (npm forwards what the group already got) lets the first stop finish. */
async function shutdown(why) {
  if (stopping) return;
  stopping = true;
  log(`stopping the demo (${why})`);
  // Agent first (it publishes `offline` through the service's broker), then the service (it stops
  // ffmpeg and removes the segments).
  for (const child of [...children].reverse()) await stopChild(child, STOP_GRACE_MS[child.name]);
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void shutdown(signal));
setInterval(() => {
  // Reparented: npm (or whatever started us) is gone, killed by a signal it does not forward.
  if (process.ppid !== parent) void shutdown('parent exited');
}, PARENT_POLL_MS).unref();

supervise(children[0]);
if ((await waitForService()) && !stopping) {
  supervise(children[1]);
  log(`the demo is running: open http://${host}:${port} and press Start (Ctrl-C to stop)`);
  log(
    `MQTT broker: ${mqttUrl}  e.g. mosquitto_pub -h 127.0.0.1 -p ${mqttPort ?? 1883} -q 1 -t cameras/cam1/control -m '{"id":"1","action":"start"}'`,
  );
} else if (!stopping) {
  log(`the web service did not answer on port ${port}; see its log above`);
  await shutdown('no service');
}
