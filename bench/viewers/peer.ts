/**
 * The viewers bench's peer: ffmpeg encoding the same picture (testsrc2 640x480 @ 30 fps, libx264
 * 2 Mbps, a keyframe a second) into its own HLS muxer's files (1-second MPEG-TS segments, six
 * listed), and nginx from Debian serving that folder (nginx-static.conf) to polling viewers
 * (polling-viewer.ts): what a user gets from the tools alone. Started per step, stopped with it.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from '../../test/helpers/ports.js';
import { GiveUp, waitFor } from '../../test/helpers/wait.js';
import { NGINX_PATH, stopProcess } from '../peer/nginx.js';
import type { Teardown } from '../lib/teardown.js';

const TEMPLATE = join(import.meta.dirname, 'nginx-static.conf');

export interface StaticPeer {
  readonly nginxPid: number;
  readonly encoderPid: number;
  readonly playlistUrl: string;
  readonly encoder: string;
}

export async function startStaticPeer(teardown: Teardown): Promise<StaticPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'camstream-viewers-nginx-'));
  teardown.add(() => rm(dir, { recursive: true, force: true }), 'the nginx folder');
  const hlsDir = join(dir, 'hls');
  await mkdir(hlsDir);
  const httpPort = await freeTcpPort();
  const values: Record<string, string> = { DIR: dir, HLS_DIR: hlsDir, HTTP_PORT: String(httpPort) };
  const config = (await readFile(TEMPLATE, 'utf8')).replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (values[key] === undefined) throw new Error(`nginx-static.conf: unknown placeholder ${key}`);
    return values[key];
  });
  await writeFile(join(dir, 'nginx.conf'), config);
  const nginx = spawn(NGINX_PATH, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let nginxLog = '';
  nginx.stderr.on('data', (chunk: Buffer) => (nginxLog = (nginxLog + chunk.toString()).slice(-20_000)));
  teardown.add(() => stopProcess(nginx, 'SIGTERM', 5000), 'nginx');

  const args = [
    '-hide_banner', '-nostats', '-loglevel', 'warning', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=30',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-b:v', '2M', '-maxrate', '2M', '-bufsize', '2M', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0',
    '-f', 'hls', '-hls_time', '1', '-hls_list_size', '6', '-hls_flags', 'delete_segments+temp_file',
    '-hls_segment_filename', join(hlsDir, 'seg%d.ts'), join(hlsDir, 'stream.m3u8'),
  ]; // prettier-ignore
  const encoder = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  encoder.stdin.on('error', () => {}); // EPIPE after exit
  let encoderLog = '';
  encoder.stderr.on('data', (chunk: Buffer) => (encoderLog = (encoderLog + chunk.toString()).slice(-20_000)));
  teardown.add(async () => {
    encoder.stdin.end('q');
    await stopProcess(encoder, 'SIGTERM', 3000);
  }, 'the peer’s ffmpeg');

  const playlistUrl = `http://127.0.0.1:${httpPort}/stream.m3u8`;
  await waitFor(
    `nginx serving ffmpeg's playlist with three segments at ${playlistUrl}`,
    async () => {
      if (nginx.exitCode !== null) throw new GiveUp(`nginx exited with ${nginx.exitCode}:\n${nginxLog}`);
      if (encoder.exitCode !== null)
        throw new GiveUp(`ffmpeg exited with ${encoder.exitCode}:\n${encoderLog}`);
      const response = await fetch(playlistUrl).catch(() => undefined);
      return response?.ok && ((await response.text()).match(/#EXTINF/g) ?? []).length >= 3;
    },
    { timeoutMs: 20_000, intervalMs: 250 },
  );
  return { nginxPid: nginx.pid!, encoderPid: encoder.pid!, playlistUrl, encoder: `ffmpeg ${args.join(' ')}` };
}
