/**
 * The peer's processes: nginx with Debian's RTMP module (one foreground process, its config, pid,
 * logs, temp folders and HLS output in a temporary folder, free loopback ports), and the ffmpeg
 * remuxer that takes the agent's MPEG-TS from UDP and publishes it to nginx as RTMP, -c copy.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort } from '../../test/helpers/ports.js';
import { GiveUp, waitFor } from '../../test/helpers/wait.js';
import type { Teardown } from '../lib/teardown.js';

const TEMPLATE = join(import.meta.dirname, 'nginx.conf');

/** Debian installs nginx in /usr/sbin, which is not on a normal user's PATH. */
export const NGINX_PATH = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

/** The module's .so, as Debian's libnginx-mod-rtmp installs it. */
export function findRtmpModule(): string {
  try {
    const files = execFileSync('dpkg', ['-L', 'libnginx-mod-rtmp'], { encoding: 'utf8' }).split('\n');
    const so = files.find((file) => file.endsWith('/ngx_rtmp_module.so'));
    if (so && existsSync(so)) return so;
  } catch {
    // not a Debian system, or the package is missing: try the usual place
  }
  const fallback = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
  if (existsSync(fallback)) return fallback;
  throw new Error('the nginx RTMP module is missing: apt-get install -y nginx libnginx-mod-rtmp');
}

export interface Nginx {
  readonly pid: number;
  readonly hlsDir: string;
  readonly rtmpPort: number;
  readonly httpPort: number;
  rtmpUrl(stream: string): string;
  playlistUrl(stream: string): string;
  playlistPath(stream: string): string;
  /** Its config as run, for the report. */
  readonly config: string;
}

export async function startNginx(teardown: Teardown): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'camstream-bench-nginx-'));
  teardown.add(() => rm(dir, { recursive: true, force: true }), 'the nginx folder');
  const hlsDir = join(dir, 'hls');
  const rtmpPort = await freeTcpPort();
  const httpPort = await freeTcpPort();
  const values: Record<string, string> = {
    RTMP_MODULE: findRtmpModule(),
    DIR: dir,
    HLS_DIR: hlsDir,
    RTMP_PORT: String(rtmpPort),
    HTTP_PORT: String(httpPort),
  };
  const config = (await readFile(TEMPLATE, 'utf8')).replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (values[key] === undefined) throw new Error(`nginx.conf: unknown placeholder ${key}`);
    return values[key];
  });
  await writeFile(join(dir, 'nginx.conf'), config);

  const proc = spawn(NGINX_PATH, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  teardown.add(() => stopProcess(proc, 'SIGTERM', 5000), 'nginx');
  await waitFor(`nginx on 127.0.0.1:${httpPort}`, async () => {
    if (proc.exitCode !== null) throw new GiveUp(`nginx exited with ${proc.exitCode}:\n${log}`);
    await fetch(`http://127.0.0.1:${httpPort}/hls/`); // any answer (403, 404) means it listens
    return true;
  });
  return {
    pid: proc.pid!,
    hlsDir,
    rtmpPort,
    httpPort,
    rtmpUrl: (stream) => `rtmp://127.0.0.1:${rtmpPort}/live/${stream}`,
    playlistUrl: (stream) => `http://127.0.0.1:${httpPort}/hls/${stream}.m3u8`,
    playlistPath: (stream) => join(hlsDir, `${stream}.m3u8`),
    config,
  };
}

/** Sends `signal`, then SIGKILL after `graceMs`; resolves on exit. Idempotent. */
export async function stopProcess(
  proc: ChildProcess,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** True once some socket is bound to UDP `port` (ffmpeg opens its input before it reads). */
export async function udpBound(port: number): Promise<boolean> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    if (text.split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(hex))) return true;
  }
  return false;
}

export interface Remuxer {
  readonly proc: ChildProcess;
  readonly args: string[];
  /** Epoch ms ffmpeg printed its input's stream line, i.e. finished probing; undefined before. */
  probedAt(): number | undefined;
  output(): string;
  stop(): Promise<void>;
}

/**
 * `ffmpeg <input options> -i udp://127.0.0.1:<port>?<query> -c copy -f flv <rtmp url>`, resolved
 * once its UDP socket is bound (so, like our segmenter, it listens before the camera starts).
 */
export async function startRemuxer(
  teardown: Teardown,
  input: { options: string[]; port: number; query: string },
  rtmpUrl: string,
): Promise<Remuxer> {
  // prettier-ignore
  const args = [
    '-hide_banner', '-nostats', '-loglevel', 'level+info',
    ...input.options,
    '-i', `udp://127.0.0.1:${input.port}${input.query ? `?${input.query}` : ''}`,
    '-c', 'copy', '-f', 'flv', '-flvflags', 'no_duration_filesize', rtmpUrl,
  ];
  const proc = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  proc.stdin.on('error', () => {}); // EPIPE after exit
  let log = '';
  let probedAt: number | undefined;
  let partial = '';
  proc.stderr.on('data', (chunk: Buffer) => {
    const now = Date.now();
    const lines = (partial + chunk.toString()).split(/\r?\n/);
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (probedAt === undefined && /Stream #0:\d+.*Video/.test(line)) probedAt = now;
      log = (log + line + '\n').slice(-20_000);
    }
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.stdin.write('q'); // ffmpeg's own clean stop
    await Promise.race([exited, sleep(1500)]);
    await stopProcess(proc, 'SIGTERM', 3000);
  };
  teardown.add(stop, 'the remuxer');
  await waitFor(
    `the remuxer to listen on UDP ${input.port}`,
    async () => {
      if (proc.exitCode !== null) throw new GiveUp(`the remuxer exited with ${proc.exitCode}:\n${log}`);
      return udpBound(input.port);
    },
    { timeoutMs: 10_000, intervalMs: 5 },
  );
  return { proc, args, probedAt: () => probedAt, output: () => log, stop };
}
