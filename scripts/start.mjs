// `npm start`: installs what is missing, builds, then runs the demo: the web service (with the
// embedded MQTT broker) and a camera agent on the test source, until Ctrl-C. A child that dies is
// restarted with backoff, so the demo never needs a person to restart it.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build, checkNode, ensureNpmPackages, ensureTools, log, root } from './setup.mjs';

checkNode();
ensureTools(['ffmpeg']);
ensureNpmPackages();
build();

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8080);

/** 1883 when it is free; otherwise (a system Mosquitto, say) any free port. */
async function brokerPort() {
  const wanted = Number(process.env.EMBEDDED_BROKER_PORT ?? 1883);
  const tryListen = (p) =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(p, '127.0.0.1', () => {
        const { port: bound } = server.address();
        server.close(() => resolve(bound));
      });
    });
  return (await tryListen(wanted)) ?? (await tryListen(0));
}

const mqttPort = process.env.MQTT_URL ? undefined : await brokerPort();
const mqttUrl = process.env.MQTT_URL ?? `mqtt://127.0.0.1:${mqttPort}`;
if (mqttPort !== undefined && mqttPort !== 1883)
  log(`port 1883 is taken; the embedded broker uses ${mqttPort}`);

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

let stopping = false;

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
    const startedAt = Date.now();
    const proc = spawn(process.execPath, [child.script], {
      cwd: root,
      env: { ...process.env, ...child.env },
      stdio: ['ignore', 'pipe', 'pipe'],
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
      setTimeout(launch, delay);
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

async function shutdown() {
  if (stopping) return;
  stopping = true;
  log('stopping the demo');
  // Agent first (it publishes `offline`), then the service (it stops ffmpeg and removes the segments).
  for (const child of [...children].reverse()) {
    const proc = child.proc;
    if (!proc) continue;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(8000).then(() => proc.kill('SIGKILL'))]);
  }
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGHUP', shutdown);

supervise(children[0]);
if (await waitForService()) {
  supervise(children[1]);
  log(`the demo is running: open http://${host}:${port} and press Start (Ctrl-C to stop)`);
  log(
    `MQTT broker: ${mqttUrl}  e.g. mosquitto_pub -h 127.0.0.1 -p ${mqttPort ?? 1883} -q 1 -t cameras/cam1/control -m '{"id":"1","action":"start"}'`,
  );
} else {
  log(`the web service did not answer on port ${port}; see its log above`);
  await shutdown();
}
