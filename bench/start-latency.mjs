#!/usr/bin/env node
// Start latency of the web service, measured on the real path: POST /api/stream/start → the camera
// (a stand-in: MQTT client + ffmpeg lavfi/libx264 test source, 1 s GOP) starts sending → the
// segmenter's first playable playlist → the 200 answer. A UDP relay in front of the segmenter
// timestamps the first datagram. Run after a build: node bench/start-latency.mjs [runs]
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { buildApp, loadServiceConfig } from '../apps/web-service/dist/index.js';

const runs = Number(process.argv[2] ?? 7);

function freeUdpPort() {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

async function once() {
  const hlsDir = await mkdtemp(join(tmpdir(), 'camstream-bench-'));
  const segmenterPort = await freeUdpPort();
  const config = loadServiceConfig({
    PORT: '0',
    EMBEDDED_BROKER_PORT: '0',
    HLS_DIR: hlsDir,
    UDP_LISTEN: `udp://127.0.0.1:${segmenterPort}`,
    LOG_LEVEL: 'warn',
  });
  const app = buildApp(config, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${app.server.address().port}`;

  // The relay: camera → relay → segmenter, noting when the first datagram passes.
  const relay = createSocket('udp4');
  const out = createSocket('udp4');
  let firstPacketAt;
  relay.on('message', (datagram) => {
    firstPacketAt ??= performance.now();
    out.send(datagram, segmenterPort, '127.0.0.1');
  });
  await new Promise((resolve) => relay.bind(0, '127.0.0.1', resolve));

  let source;
  let commandAt;
  const camera = await connectAsync(app.camstream.mqttUrl, { protocolVersion: 4 });
  camera.on('message', (_topic, payload) => {
    const command = JSON.parse(payload.toString());
    if (command.action !== 'start' || source) return;
    commandAt = performance.now();
    source = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi'],
        ...['-i', 'testsrc2=size=640x480:rate=30', '-c:v', 'libx264', '-preset', 'ultrafast'],
        ...['-tune', 'zerolatency', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-b:v', '2M'],
        ...['-f', 'mpegts', `udp://127.0.0.1:${relay.address().port}?pkt_size=1316`],
      ],
      { stdio: 'ignore' },
    );
  });
  await camera.subscribeAsync('cameras/cam1/control', { qos: 1 });
  await camera.publishAsync(
    'cameras/cam1/status',
    JSON.stringify({ state: 'idle', at: new Date().toISOString() }),
    {
      qos: 1,
      retain: true,
    },
  );
  while ((await (await fetch(`${base}/api/stream`)).json()).camera === null) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  const requestAt = performance.now();
  const answer = await fetch(`${base}/api/stream/start`, { method: 'POST' });
  const liveAt = performance.now();
  if (answer.status !== 200) throw new Error(`start answered ${answer.status}: ${await answer.text()}`);

  source?.kill('SIGKILL');
  await camera.publishAsync('cameras/cam1/status', '', { qos: 1, retain: true });
  await camera.endAsync();
  await app.close();
  relay.close();
  out.close();
  await rm(hlsDir, { recursive: true, force: true });
  return {
    startToLive: liveAt - requestAt,
    startToCommand: commandAt - requestAt,
    firstPacketToLive: liveAt - firstPacketAt,
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const results = [];
for (let run = 0; run < runs; run++) {
  const result = await once();
  results.push(result);
  console.log(
    `run ${run + 1}: start → live ${result.startToLive.toFixed(0)} ms ` +
      `(start → camera got the command ${result.startToCommand.toFixed(0)} ms, ` +
      `first UDP packet → live ${result.firstPacketToLive.toFixed(0)} ms)`,
  );
}
for (const key of ['startToLive', 'startToCommand', 'firstPacketToLive']) {
  const values = results.map((result) => result[key]);
  console.log(
    `${key}: median ${median(values).toFixed(0)} ms, min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)}`,
  );
}
