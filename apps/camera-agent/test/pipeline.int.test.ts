/**
 * The Pipeline with real processes: each source end to end (the test source on the real ffmpeg;
 * rpicam-vid and a V4L2 camera through stand-in executables that take the real command line and
 * emit a real stream), checked at a UDP listener with ffprobe. Faults are real too: a missing
 * executable, a missing device, a silent process, SIGKILL, SIGSTOP.
 */
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { useCleanup, type Cleanup } from '../../../test/helpers/cleanup.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { loadAgentConfig } from '../src/config.js';
import { EncoderStartError, InvalidStateError } from '../src/errors.js';
import { silentLogger } from '../src/logger.js';
import { Pipeline, type PipelineExit, type PipelineOptions } from '../src/pipeline.js';
import { buildEncoderCommand, type EncoderCommand } from '../src/sources/index.js';
import {
  ffmpegListsEncoder,
  findFont,
  m2mEncoderPresent,
  probeSourceEnvironment,
} from '../src/sources/probe.js';
import { expectMpegTsDatagrams, groupAlive, probeVideo } from './helpers/mpegts.js';
import { listenUdp, type UdpListener } from './helpers/udp.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const ready = haveTools('ffmpeg', 'ffprobe');

function pipelineFor(
  cleanup: Cleanup,
  listener: UdpListener,
  buildCommand: (port: number) => EncoderCommand,
  options: Partial<PipelineOptions> = {},
) {
  const pipeline = new Pipeline({
    buildCommand,
    target: { host: '127.0.0.1', port: listener.port },
    logger: silentLogger,
    stallTimeoutMs: 5000,
    ...options,
  });
  cleanup.add(() => pipeline.close());
  const exits: PipelineExit[] = [];
  pipeline.on('exit', (exit) => exits.push(exit));
  return { pipeline, exits };
}

async function sourceCommand(env: Record<string, string>) {
  const config = loadAgentConfig(env);
  const environment = await probeSourceEnvironment(config, silentLogger);
  return (port: number) => buildEncoderCommand(config, environment, port);
}

describe.runIf(ready)('Pipeline, each source end to end', () => {
  const cleanup = useCleanup();

  test.each([
    ['test (ffmpeg lavfi)', { CAMERA_SOURCE: 'test' }, 640, 480, 0],
    [
      'rpicam (stand-in rpicam-vid)',
      {
        CAMERA_SOURCE: 'rpicam',
        RPICAM_VID_PATH: join(FIXTURES, 'rpicam-vid'),
        VIDEO_WIDTH: '320',
        VIDEO_HEIGHT: '240',
        VIDEO_FPS: '25',
      },
      320,
      240,
      0,
    ],
    [
      'v4l2 with V4L2_ENCODER=auto (stand-in ffmpeg; no m2m device here, so libx264)',
      {
        CAMERA_SOURCE: 'v4l2',
        FFMPEG_PATH: join(FIXTURES, 'ffmpeg'),
        VIDEO_WIDTH: '352',
        VIDEO_HEIGHT: '288',
      },
      352,
      288,
      0,
    ],
  ])(
    '%s: constrained-baseline H.264 in MPEG-TS datagrams of up to 1316 bytes, at the requested size',
    async (_name, env, width, height, code) => {
      const listener = await listenUdp(cleanup);
      const { pipeline, exits } = pipelineFor(cleanup, listener, await sourceCommand(env));
      const dataStarted = once(pipeline, 'data-started');

      await pipeline.start();
      await dataStarted;
      expect(pipeline.dataStarted).toBe(true);
      const pid = pipeline.pid!;
      expect(groupAlive(pid)).toBe(true);

      // About two seconds of stream: at least one keyframe with SPS/PPS for ffprobe.
      const captured = await listener.waitForMore(350);
      expectMpegTsDatagrams(captured);
      const stream = await probeVideo(captured);
      // Constrained Baseline without B-frames: what WebRTC in Safari and Firefox decodes.
      expect(stream).toMatchObject({
        codec_name: 'h264',
        width,
        height,
        profile: 'Constrained Baseline',
        has_b_frames: 0,
      });

      await pipeline.close();
      expect(exits).toEqual([
        expect.objectContaining({ code, signal: null, wasWanted: true, duringStart: false }),
      ]);
      expect(groupAlive(pid)).toBe(false); // the encoder and anything it started are gone
      expect(pipeline.stats?.relayed).toBeGreaterThanOrEqual(350);
    },
  );

  test('the probe: ffmpeg lists its encoders; V4L2_ENCODER=auto means libx264 without an m2m device', async () => {
    expect(await ffmpegListsEncoder('ffmpeg', 'libx264')).toBe(true);
    expect(await ffmpegListsEncoder('ffmpeg', 'no_such_encoder')).toBe(false);
    expect(await ffmpegListsEncoder('/nonexistent/ffmpeg', 'libx264')).toBe(false);
    const config = loadAgentConfig({ CAMERA_SOURCE: 'v4l2' });
    const expected = (await m2mEncoderPresent()) && (await ffmpegListsEncoder('ffmpeg', 'h264_v4l2m2m'));
    expect((await probeSourceEnvironment(config, silentLogger)).v4l2Encoder).toBe(
      expected ? 'h264_v4l2m2m' : 'libx264',
    );
  });

  test('the test source draws a clock when a font is installed', async () => {
    expect(await findFont()).toMatch(/\.ttf$/);
    const build = await sourceCommand({});
    expect(build(1).args.join(' ')).toContain('drawtext=fontfile=');
  });
});

describe.runIf(ready)('Pipeline faults', () => {
  const cleanup = useCleanup();

  test('a missing executable: start() rejects (spawn) and leaves nothing running', async () => {
    const listener = await listenUdp(cleanup);
    const build = await sourceCommand({ FFMPEG_PATH: '/nonexistent/ffmpeg' });
    const { pipeline, exits } = pipelineFor(cleanup, listener, build);
    const error = await pipeline.start().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(EncoderStartError);
    expect(error).toMatchObject({ reason: 'spawn', code: 'AGENT_ERR_ENCODER_START', message: /ENOENT/ });
    expect(exits).toEqual([expect.objectContaining({ duringStart: true, wasWanted: false })]);
  });

  test('a V4L2 device that is not there: start() rejects with ffmpeg’s own words', async () => {
    const listener = await listenUdp(cleanup);
    const build = await sourceCommand({
      CAMERA_SOURCE: 'v4l2',
      FFMPEG_PATH: join(FIXTURES, 'ffmpeg'),
      V4L2_DEVICE: '/dev/video7',
      V4L2_ENCODER: 'libx264',
    });
    const { pipeline, exits } = pipelineFor(cleanup, listener, build);
    await expect(pipeline.start()).rejects.toMatchObject({
      reason: 'exit',
      message: /exited with code 1: .*\/dev\/video7: No such file or directory/,
    });
    expect(exits).toEqual([expect.objectContaining({ code: 1, duringStart: true, wasWanted: false })]);
  });

  test('rpicam-vid refusing a command line: start() rejects with its message', async () => {
    const listener = await listenUdp(cleanup);
    const build = await sourceCommand({
      CAMERA_SOURCE: 'rpicam',
      RPICAM_VID_PATH: join(FIXTURES, 'rpicam-vid'),
    });
    const { pipeline } = pipelineFor(cleanup, listener, (port) => {
      const command = build(port);
      return { ...command, args: [...command.args, '--no-such-flag'] };
    });
    await expect(pipeline.start()).rejects.toMatchObject({
      reason: 'exit',
      message: /exited with code 255: ERROR: \*\*\* unrecognised option '--no-such-flag' \*\*\*/,
    });
  });

  test('no data in time: start() rejects (timeout) and the process is stopped, escalating to SIGKILL', async () => {
    const listener = await listenUdp(cleanup);
    // A process that sends nothing and ignores SIGINT and SIGTERM.
    const stubborn: EncoderCommand = {
      command: 'sh',
      args: ['-c', 'trap "" INT TERM; while :; do sleep 0.1; done'],
      gracefulStop: 'sigint',
    };
    const { pipeline, exits } = pipelineFor(cleanup, listener, () => stubborn, {
      startTimeoutMs: 500,
      gracefulStopMs: 300,
      terminateMs: 300,
    });
    const started = Date.now();
    await expect(pipeline.start()).rejects.toMatchObject({
      reason: 'timeout',
      message: /no data within 500 ms/,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500 + 300 + 300);
    expect(exits).toEqual([
      expect.objectContaining({ signal: 'SIGKILL', wasWanted: true, duringStart: true }),
    ]);
  });

  test('an encoder killed while streaming: exit (not wanted, not during start)', async () => {
    const listener = await listenUdp(cleanup);
    const { pipeline, exits } = pipelineFor(cleanup, listener, await sourceCommand({}));
    await pipeline.start();
    const exited = once(pipeline, 'exit');
    process.kill(pipeline.pid!, 'SIGKILL');
    await exited;
    expect(exits).toEqual([
      expect.objectContaining({
        code: null,
        signal: 'SIGKILL',
        wasWanted: false,
        duringStart: false,
        message: 'was killed by SIGKILL',
      }),
    ]);
    await pipeline.close(); // still fine after the process is gone
  });

  test('an encoder that stops sending (SIGSTOP): stalled, and close() still ends it', async () => {
    const listener = await listenUdp(cleanup);
    const { pipeline, exits } = pipelineFor(cleanup, listener, await sourceCommand({}), {
      stallTimeoutMs: 700,
      gracefulStopMs: 300,
    });
    await pipeline.start();
    const pid = pipeline.pid!;
    const stalled = once(pipeline, 'stalled');
    process.kill(pid, 'SIGSTOP');
    const [silentForMs] = (await stalled) as [number];
    expect(silentForMs).toBeGreaterThanOrEqual(700);
    await pipeline.close();
    expect(groupAlive(pid)).toBe(false);
    expect(exits[0]).toMatchObject({ wasWanted: true, duringStart: false });
  });

  test('retarget: the same encoder, now sending somewhere else', async () => {
    const first = await listenUdp(cleanup);
    const second = await listenUdp(cleanup);
    const { pipeline } = pipelineFor(cleanup, first, await sourceCommand({}));
    await pipeline.start();
    await first.waitForMore(20);
    const pid = pipeline.pid;
    await pipeline.retarget({ host: '127.0.0.1', port: second.port });
    const moved = await second.waitForMore(100);
    expectMpegTsDatagrams(moved);
    const countAtFirst = first.datagrams.length;
    await sleep(300);
    expect(first.datagrams.length).toBe(countAtFirst);
    expect(pipeline.pid).toBe(pid);
  });

  test('garbage on the loopback port is not relayed', async () => {
    const listener = await listenUdp(cleanup);
    const { pipeline } = pipelineFor(cleanup, listener, await sourceCommand({}));
    await pipeline.start();
    const intruder = createSocket('udp4');
    cleanup.add(() => new Promise<void>((resolve) => intruder.close(() => resolve())));
    await new Promise<void>((resolve, reject) =>
      intruder.send(Buffer.from('not a transport stream'), pipeline.port!, '127.0.0.1', (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    await waitFor('the garbage datagram to be dropped', () => pipeline.stats!.dropped === 1);
    expect(listener.datagrams.every((d) => d[0] === 0x47)).toBe(true);
  });

  test('close() is idempotent, and calls after it throw InvalidStateError', async () => {
    const listener = await listenUdp(cleanup);
    const { pipeline } = pipelineFor(cleanup, listener, await sourceCommand({}));
    await pipeline.start();
    await expect(pipeline.start()).rejects.toBeInstanceOf(InvalidStateError);
    const first = pipeline.close();
    expect(pipeline.close()).toBe(first);
    await first;
    expect(pipeline.closed).toBe(true);
    await expect(pipeline.start()).rejects.toBeInstanceOf(InvalidStateError);
    await expect(pipeline.retarget({ host: '127.0.0.1', port: 1 })).rejects.toBeInstanceOf(InvalidStateError);
  });

  test('close() during start(): start() rejects (closed) and the process is stopped', async () => {
    const listener = await listenUdp(cleanup);
    const slow: EncoderCommand = { command: 'sleep', args: ['30'], gracefulStop: 'sigint' };
    const { pipeline, exits } = pipelineFor(cleanup, listener, () => slow);
    const starting = pipeline.start();
    await waitFor('the process to be spawned', () => pipeline.pid !== undefined);
    const pid = pipeline.pid!;
    await pipeline.close();
    await expect(starting).rejects.toMatchObject({ reason: 'closed' });
    expect(exits).toEqual([
      expect.objectContaining({ signal: 'SIGINT', wasWanted: true, duringStart: true }),
    ]);
    expect(groupAlive(pid)).toBe(false);
  });
});
