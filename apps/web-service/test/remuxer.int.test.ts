/**
 * The ingest, the remuxer, the media reader and the plain HLS output against real ffmpeg. The camera's video comes
 * from a stand-in (camera-source.ts: the same lavfi → libx264 → MPEG-TS/UDP the real agent's test
 * source sends), which replaces the camera agent for these service-only tests.
 */
import { createSocket } from 'node:dgram';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InvalidStateError, isServiceError } from '../src/errors.js';
import { UdpIngest } from '../src/ingest/udp-ingest.js';
import { FfmpegRemuxer, type RemuxerOptions } from '../src/ingest/remuxer.js';
import { MediaReader } from '../src/ingest/media-reader.js';
import { Fanout } from '../src/outputs/fanout.js';
import { newStreamId } from '../src/outputs/names.js';
import { PlainHlsOutput } from '../src/outputs/plain-hls/output.js';
import { startCameraSource } from './helpers/camera-source.js';
import { tempDir, useCleanup } from '../../../test/helpers/cleanup.js';
import { silentLogger } from './helpers/logger.js';
import { freeUdpPort } from '../../../test/helpers/ports.js';
import { segmentersOf } from '../../../test/helpers/processes.js';
import { haveTools } from '../../../test/helpers/tools.js';

const ready = haveTools('ffmpeg');

describe.runIf(ready)('FfmpegRemuxer', () => {
  const cleanup = useCleanup();

  /** The remuxers this test process runs (ffmpeg reading its stdin). */
  const remuxers = () => segmentersOf(process.pid);

  async function setup(overrides: Partial<RemuxerOptions> = {}) {
    const hlsDir = await tempDir(cleanup, 'camstream-ws-seg-');
    // Runs before the folder goes (last added, first run).
    cleanup.add(async () => expect(await remuxers()).toEqual([]));
    const port = await freeUdpPort();
    const input = `udp://127.0.0.1:${port}`;
    const output = new PlainHlsOutput({ dir: hlsDir, segmentSeconds: 1, listSize: 6, logger: silentLogger });
    await output.clear();
    const streamId = newStreamId();
    const reader = new MediaReader({
      streamId,
      restart: false,
      sink: new Fanout([output], { logger: silentLogger }),
    });
    const segmenter = new FfmpegRemuxer({
      ffmpegPath: 'ffmpeg',
      streamId,
      logger: silentLogger,
      onMedia: (chunk) => reader.push(chunk),
      ...overrides,
    });
    cleanup.add(() => segmenter.close());
    const ingest = new UdpIngest({ listen: input, logger: silentLogger });
    cleanup.add(() => ingest.close());
    await ingest.open();
    ingest.setSink((chunk) => segmenter.write(chunk));
    const untilPlayable = () => output.waitUntilPlayable(streamId, AbortSignal.timeout(15_000));
    return { hlsDir, input, ingest, segmenter, untilPlayable };
  }

  test('turns the camera’s stream, through the ingest, into fMP4 frames and a playable playlist, and stops on close', async () => {
    const { hlsDir, input, segmenter, untilPlayable } = await setup();
    await segmenter.start();
    expect(await remuxers()).toEqual([segmenter.pid]);

    const camera = startCameraSource(input);
    cleanup.add(() => camera.stop());
    await untilPlayable();
    const playlist = await readFile(join(hlsDir, 'stream.m3u8'), 'utf8');
    expect(playlist).toContain(`#EXT-X-MAP:URI="${segmenter.streamId}-init.mp4"`);
    const [, seconds, uri] = /#EXTINF:([\d.]+),\n(\S+)/.exec(playlist)!;
    expect(Number(seconds)).toBeGreaterThan(0.5);
    expect(uri).toMatch(new RegExp(`^${segmenter.streamId}-\\d{5}\\.m4s$`));

    const exit = await segmenter.close();
    expect(exit).toMatchObject({ requested: true, duringStart: false });
    expect(await remuxers()).toEqual([]);
    // Calls after close are refused, close itself stays idempotent.
    await expect(segmenter.start()).rejects.toBeInstanceOf(InvalidStateError);
    expect(await segmenter.close()).toBe(exit);
    expect((await readdir(hlsDir)).some((name) => name.endsWith('.m4s'))).toBe(true);
  });

  test('closes without SIGKILL after the camera went silent (ffmpeg waiting for input)', async () => {
    // The usual stop: the camera stops first (mosquitto_pub stop), then the segmenter is closed.
    const { input, segmenter, untilPlayable } = await setup();
    await segmenter.start();
    const camera = startCameraSource(input);
    cleanup.add(() => camera.stop());
    await untilPlayable();
    await camera.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const began = Date.now();
    const exit = await segmenter.close();
    expect(exit.signal).not.toBe('SIGKILL');
    expect(Date.now() - began).toBeLessThan(2000);
    expect(await remuxers()).toEqual([]);
  });

  test('closes quickly while ffmpeg still waits for its first packet', async () => {
    const { segmenter } = await setup();
    await segmenter.start();
    const began = Date.now();
    await segmenter.close();
    expect(Date.now() - began).toBeLessThan(1000);
    expect(await remuxers()).toEqual([]);
  });

  test('a port that is taken: the ingest does not open, with a coded error naming the port', async () => {
    const { input } = await setup();
    const second = new UdpIngest({ listen: input, logger: silentLogger });
    cleanup.add(() => second.close());
    const failure = await second.open().catch((err: unknown) => err);
    expect(isServiceError(failure, 'WEB_ERR_UDP_LISTEN_FAILED')).toBe(true);
    expect(String((failure as Error).message)).toContain(`UDP port ${input.split(':')[2]} is in use`);
    expect(second.listening).toBe(false);
  });

  test('the ingest passes nothing on before the camera’s keyframe, and drops datagrams that are not TS', async () => {
    const { ingest, input } = await setup();
    const chunks: Buffer[] = [];
    ingest.setSink((chunk) => chunks.push(chunk));
    const noise = createSocket('udp4');
    cleanup.add(() => new Promise<void>((resolve) => noise.close(() => resolve())));
    const port = Number(input.split(':')[2]);
    for (const size of [0, 1, 187, 188, 1316, 2000]) noise.send(Buffer.alloc(size, 0x47), port, '127.0.0.1');
    const camera = startCameraSource(input);
    cleanup.add(() => camera.stop());
    const deadline = Date.now() + 10_000;
    while (chunks.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const first = chunks[0]!;
    // PAT first, then the PMT, then the keyframe's PES on the video PID.
    expect(first.readUInt16BE(1) & 0x1fff).toBe(0);
    expect(first.subarray(188 * 2 + 4, 188 * 2 + 8)).not.toEqual(Buffer.alloc(4));
    expect(ingest.stats().datagramsDropped['not-ts']).toBeGreaterThanOrEqual(5);
    expect(ingest.stats().timelines).toBe(1);
  });

  test('a missing ffmpeg executable fails the start with a coded error', async () => {
    const { segmenter } = await setup({ ffmpegPath: '/nonexistent/ffmpeg' });
    await expect(segmenter.start()).rejects.toMatchObject({ code: 'WEB_ERR_SEGMENTER_FAILED' });
  });

  test('emits died when ffmpeg is killed from outside', async () => {
    const { segmenter } = await setup();
    await segmenter.start();
    const died = new Promise((resolve) => segmenter.once('died', resolve));
    process.kill(segmenter.pid!, 'SIGKILL');
    expect(await died).toMatchObject({ signal: 'SIGKILL', duringStart: false, requested: false });
  });
});
