/**
 * The command line (dist/server.js, built by the integration project's global setup): configuration
 * errors, and a SIGTERM while live that leaves no ffmpeg and no files (plain HLS) or no ffmpeg and
 * no held request (LL-HLS). The camera is the stand-in from fake-camera.ts, which replaces the agent
 * for these service-only tests.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { tempDir, useCleanup } from '../../../test/helpers/cleanup.js';
import { startFakeCamera } from './helpers/fake-camera.js';
import { freeTcpPort, freeUdpPort } from '../../../test/helpers/ports.js';
import { commandLine, segmentersOf } from '../../../test/helpers/processes.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { waitFor } from '../../../test/helpers/wait.js';

const SERVER = join(import.meta.dirname, '..', 'dist', 'server.js');
const ready = haveTools('ffmpeg');

function runServer(env: Record<string, string>) {
  const proc = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  return { proc, exited, output: () => output };
}

describe.runIf(ready)('server.js', () => {
  const cleanup = useCleanup();

  test('a bad configuration: every problem printed with its code, exit status 2', async () => {
    const server = runServer({ PORT: 'eighty', CAMERA_ID: 'a/b', HLS_LIST_SIZE: '-1' });
    cleanup.add(() => server.proc.kill('SIGKILL'));
    expect(await server.exited).toBe(2);
    expect(server.output()).toContain('WEB_ERR_CONFIG');
    for (const name of ['PORT="eighty"', 'CAMERA_ID="a/b"', 'HLS_LIST_SIZE="-1"']) {
      expect(server.output()).toContain(name);
    }
  });

  /** The CLI on free ports with the stand-in camera, live; `env` on top. */
  async function startLive(env: Record<string, string>) {
    const hlsDir = await tempDir(cleanup, 'camstream-ws-cli-');
    const [port, mqttPort, udpPort] = [await freeTcpPort(), await freeTcpPort(), await freeUdpPort()];
    const udpListen = `udp://127.0.0.1:${udpPort}`;
    // After the server is killed (a failed test): its ffmpeg, orphaned, must not outlive the test.
    const seen = new Set<number>();
    cleanup.add(async () => {
      for (const pid of seen) if ((await commandLine(pid))?.includes('pipe:0')) process.kill(pid, 'SIGKILL');
    });
    const server = runServer({
      PORT: String(port),
      EMBEDDED_BROKER_PORT: String(mqttPort),
      UDP_LISTEN: udpListen,
      HLS_DIR: hlsDir,
      ...env,
    });
    cleanup.add(() => server.proc.kill('SIGKILL'));
    const segmenters = async () => {
      const pids = await segmentersOf(server.proc.pid!);
      pids.forEach((pid) => seen.add(pid));
      return pids;
    };
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`the service\n${server.output()}`, async () => {
      if (server.proc.exitCode !== null) throw new Error(`server exited:\n${server.output()}`);
      return (await fetch(`${base}/api/stream`).catch(() => undefined))?.ok;
    });
    await startFakeCamera(cleanup, {
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
      target: udpListen,
    });
    await waitFor(
      'the camera',
      async () => ((await (await fetch(`${base}/api/stream`)).json()) as { camera: unknown }).camera !== null,
    );
    const start = await fetch(`${base}/api/stream/start`, { method: 'POST' });
    expect(start.status).toBe(200);
    return { server, base, hlsDir, segmenters };
  }

  test('HLS_MODE=plain: SIGTERM while live: stops ffmpeg, removes the files, exits 0', async () => {
    const { server, hlsDir, segmenters } = await startLive({ HLS_MODE: 'plain' });
    expect(await segmenters()).toHaveLength(1);
    expect((await readdir(hlsDir)).length).toBeGreaterThan(0);

    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(await segmenters()).toEqual([]);
    expect(await readdir(hlsDir)).toEqual([]);
    expect(server.output()).toMatch(/shutting down/);
  });

  test('LL-HLS: SIGTERM while live, with a blocking playlist request held: answered, ffmpeg stopped, exits 0', async () => {
    const { server, base, hlsDir, segmenters } = await startLive({});
    expect(await segmenters()).toHaveLength(1);
    const text = await (await fetch(`${base}/hls/stream.m3u8`)).text();
    expect(text).toMatch(/#EXT-X-PRELOAD-HINT:TYPE=PART/);
    // Two segments ahead of the open one: held for up to three target durations.
    const open =
      Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)![1]) + (text.match(/#EXTINF:/g)?.length ?? 0);
    const held = fetch(`${base}/hls/stream.m3u8?_HLS_msn=${open + 2}`).then(
      (response) => response.status,
      () => 'closed',
    );

    const began = Date.now();
    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(Date.now() - began).toBeLessThan(3000); // not the 3 s hold, nor the 10 s shutdown limit
    expect(await held).not.toBe(200);
    expect(await segmenters()).toEqual([]);
    expect(await readdir(hlsDir)).toEqual([]); // LL-HLS writes nothing
    expect(server.output()).toMatch(/shutting down/);
  });
});
