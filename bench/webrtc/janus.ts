/**
 * Janus (Debian's `janus`) as the WebRTC peer: one foreground process with a config of the bench's
 * own in a temporary folder (only the streaming plugin and the HTTP transport, on loopback), driven
 * through its plain HTTP API (create a session, attach janus.plugin.streaming, create an RTP
 * mountpoint for H.264 on a loopback port, watch, start with the page's answer), and fed by an ffmpeg
 * that takes the same MPEG-TS datagrams as our service and sends them as RTP, -c copy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort, freeUdpPort } from '../../test/helpers/ports.js';
import { GiveUp, waitFor } from '../../test/helpers/wait.js';
import { stopProcess, udpBound } from '../peer/nginx.js';
import type { Teardown } from '../lib/teardown.js';

export const JANUS_PATH = '/usr/bin/janus';

/** Debian's Janus modules: /usr/lib/<multiarch triplet>/janus (x86_64-linux-gnu, aarch64-linux-gnu, …). */
async function janusLib(): Promise<string> {
  for (const entry of await readdir('/usr/lib')) {
    const dir = join('/usr/lib', entry, 'janus');
    if (entry.endsWith('-linux-gnu') && existsSync(join(dir, 'plugins', 'libjanus_streaming.so'))) return dir;
  }
  throw new Error('Janus: no streaming plugin in /usr/lib/*-linux-gnu/janus/plugins (apt-get install janus)');
}
/** Janus answers a request within this, or the bench says which one it was and stops. */
const CALL_TIMEOUT_MS = 10_000;

interface JanusReply {
  janus: string;
  transaction?: string;
  data?: { id: number };
  plugindata?: { data: Record<string, unknown> };
  jsep?: { type: string; sdp: string };
  error?: { code: number; reason: string };
  sender?: number;
}

export interface Janus {
  readonly proc: ChildProcess;
  /** Where the mountpoint takes RTP (H.264, payload type 96). */
  readonly rtpPort: number;
  readonly config: string;
  output(): string;
  /** A viewer's handle: watch → Janus's offer; start with the page's answer; hang up. */
  watch(): Promise<JanusViewer>;
}

export interface JanusViewer {
  offer: string;
  /** Epoch ms the watch request was sent. */
  requestedAt: number;
  start(answer: string): Promise<void>;
  close(): Promise<void>;
}

async function writeConfig(dir: string, httpPort: number): Promise<string> {
  const LIB = await janusLib();
  const others = async (folder: string, keep: string) =>
    (await readdir(join(LIB, folder)).catch(() => [] as string[]))
      .filter((file) => file.endsWith('.so') && !file.includes(keep))
      .join(',');
  const main = `general: {
  configs_folder = "${dir}"
  plugins_folder = "${LIB}/plugins"
  transports_folder = "${LIB}/transports"
  events_folder = "${LIB}/events"
  loggers_folder = "${LIB}/loggers"
  debug_level = 4
}
plugins: { disable = "${await others('plugins', 'streaming')}" }
transports: { disable = "${await others('transports', 'http')}" }
loggers: { disable = "${await others('loggers', '\0')}" }
events: { broadcast = false, disable = "${await others('events', '\0')}" }
`;
  await writeFile(join(dir, 'janus.jcfg'), main);
  await writeFile(
    join(dir, 'janus.transport.http.jcfg'),
    `general: { json = "plain", base_path = "/janus", http = true, port = ${httpPort}, ip = "127.0.0.1", https = false }\nadmin: { admin_http = false, admin_https = false }\n`,
  );
  await writeFile(join(dir, 'janus.plugin.streaming.jcfg'), 'general: { }\n');
  return main;
}

export async function startJanus(teardown: Teardown): Promise<Janus> {
  const dir = await mkdtemp(join(tmpdir(), 'camstream-janus-'));
  teardown.add(() => rm(dir, { recursive: true, force: true }), 'the Janus folder');
  const httpPort = await freeTcpPort();
  const config = await writeConfig(dir, httpPort);
  const proc = spawn(JANUS_PATH, ['-F', dir, '-o', '-N', '-L', join(dir, 'janus.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  teardown.add(() => stopProcess(proc, 'SIGTERM', 5000), 'Janus');
  const base = `http://127.0.0.1:${httpPort}/janus`;
  let counter = 0;
  const call = async (path: string, body: Record<string, unknown>): Promise<JanusReply> => {
    const what = `Janus: ${String(body.janus)}${path ? ` on ${path}` : ''}`;
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`${what}: Janus is not running (exit ${proc.exitCode ?? proc.signalCode})\n${log}`);
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transaction: `bench-${++counter}`, ...body }),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    }).catch((error: Error) => {
      throw new Error(`${what}: no answer within ${CALL_TIMEOUT_MS} ms (${error.message})`);
    });
    const reply = (await response.json()) as JanusReply;
    if (reply.janus === 'error')
      throw new Error(`${what}: ${reply.error?.reason ?? 'error'} (${reply.error?.code ?? '?'})`);
    return reply;
  };
  await waitFor(
    'Janus to answer on HTTP',
    async () => {
      if (proc.exitCode !== null)
        throw new GiveUp(`Janus exited with ${proc.exitCode}:\n${log}\n${await logFile(dir)}`);
      return fetch(`${base}/info`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  const session = (await call('', { janus: 'create' })).data!.id;
  // Events (the watch's offer) come by long poll; the poll also keeps the session alive.
  const waiting = new Map<number, (reply: JanusReply) => void>();
  let polling = true;
  const stopPolling = new AbortController();
  void (async () => {
    while (polling && proc.exitCode === null) {
      // Janus answers a long poll within 30 s (a keepalive when nothing happened).
      const signal = AbortSignal.any([stopPolling.signal, AbortSignal.timeout(40_000)]);
      const replies = await fetch(`${base}/${session}?maxev=5&rid=${Date.now()}`, { signal })
        .then((r) => r.json() as Promise<JanusReply | JanusReply[]>)
        .catch(async () => (await sleep(200), []));
      for (const reply of [replies].flat()) {
        if (reply.jsep && reply.sender !== undefined) waiting.get(reply.sender)?.(reply);
      }
    }
  })();
  teardown.add(async () => {
    polling = false;
    stopPolling.abort();
    await call(`/${session}`, { janus: 'destroy' }).catch(() => undefined);
  }, 'the Janus session');
  const attach = async () =>
    (await call(`/${session}`, { janus: 'attach', plugin: 'janus.plugin.streaming' })).data!.id;
  const admin = await attach();
  const rtpPort = await freeUdpPort();
  const created = await call(`/${session}/${admin}`, {
    janus: 'message',
    body: {
      request: 'create',
      type: 'rtp',
      id: 1,
      name: 'camstream bench',
      media: [
        {
          type: 'video',
          mid: 'v',
          port: rtpPort,
          pt: 96,
          codec: 'h264',
          fmtp: 'profile-level-id=42e01f;packetization-mode=1',
        },
      ],
    },
  });
  const result = created.plugindata?.data;
  if (result?.streaming !== 'created') throw new Error(`Janus: no mountpoint: ${JSON.stringify(result)}`);
  return {
    proc,
    rtpPort,
    config,
    output: () => log,
    async watch() {
      const handle = await attach();
      const offered = new Promise<JanusReply>((resolve) => waiting.set(handle, resolve));
      const requestedAt = Date.now();
      await call(`/${session}/${handle}`, { janus: 'message', body: { request: 'watch', id: 1 } });
      const reply = await Promise.race([
        offered,
        sleep(10_000).then(() => {
          throw new Error('Janus: no offer within 10 s of the watch request');
        }),
      ]);
      waiting.delete(handle);
      return {
        offer: reply.jsep!.sdp,
        requestedAt,
        async start(answer) {
          await call(`/${session}/${handle}`, {
            janus: 'message',
            body: { request: 'start' },
            jsep: { type: 'answer', sdp: answer },
          });
        },
        async close() {
          await call(`/${session}/${handle}`, { janus: 'detach' }).catch(() => undefined);
        },
      };
    },
  };
}

async function logFile(dir: string): Promise<string> {
  return (await readFile(join(dir, 'janus.log'), 'utf8').catch(() => '')).slice(-5000);
}

/** `ffmpeg <input options> -i udp://…?<query> -c copy -an -f rtp rtp://127.0.0.1:<rtpPort>`. */
export async function startRtpSender(
  teardown: Teardown,
  input: { options: string[]; port: number; query: string },
  rtpPort: number,
): Promise<{ proc: ChildProcess; args: string[]; output(): string }> {
  // prettier-ignore
  const args = [
    '-hide_banner', '-nostats', '-loglevel', 'warning',
    ...input.options,
    '-i', `udp://127.0.0.1:${input.port}${input.query ? `?${input.query}` : ''}`,
    '-map', '0:v:0', '-c', 'copy', '-f', 'rtp', '-payload_type', '96', `rtp://127.0.0.1:${rtpPort}?pkt_size=1200`,
  ];
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-10_000)));
  teardown.add(() => stopProcess(proc, 'SIGTERM', 3000), 'the RTP sender for Janus');
  await waitFor(
    `the RTP sender to listen on UDP ${input.port}`,
    async () => {
      if (proc.exitCode !== null) throw new GiveUp(`the RTP sender exited with ${proc.exitCode}:\n${log}`);
      return udpBound(input.port);
    },
    { timeoutMs: 10_000, intervalMs: 5 },
  );
  return { proc, args, output: () => log };
}
