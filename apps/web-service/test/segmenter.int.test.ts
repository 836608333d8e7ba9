/**
 * The ingest, the segmenter and the playlist watcher against real ffmpeg. The camera's video comes
 * from a stand-in (camera-source.ts: the same lavfi → libx264 → MPEG-TS/UDP the real agent's test
 * source sends), which replaces the camera agent for these service-only tests.
 */
import { createSocket } from 'node:dgram';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InvalidStateError, isServiceError } from '../src/errors.js';
import { UdpIngest } from '../src/ingest/udp-ingest.js';
import { FfmpegRemuxer, type RemuxerOptions } from '../src/ingest/remuxer.js';
import { isSegmentOf, newStreamId } from '../src/outputs/names.js';
import { PlaylistWatcher } from '../src/stream/playlist-watcher.js';
import { startCameraSource } from './helpers/camera-source.js';
import { useCleanup } from '../../../test/helpers/cleanup.js';
import { silentLogger } from './helpers/logger.js';
import { freeUdpPort } from '../../../test/helpers/ports.js';
import { processesMatching } from '../../../test/helpers/processes.js';
import { haveTools } from '../../../test/helpers/tools.js';

const ready = haveTools('ffmpeg');

describe.runIf(ready)('FfmpegRemuxer', () => {
  const cleanup = useCleanup();

  async function setup(overrides: Partial<RemuxerOptions> = {}) {
    const hlsDir = await mkdtemp(join(tmpdir(), 'camstream-ws-seg-'));
    cleanup.add(async () => {
      expect(await processesMatching(hlsDir)).toEqual([]);
      await rm(hlsDir, { recursive: true, force: true });
    });
    const port = await freeUdpPort();
    const input = `udp://127.0.0.1:${port}`;
    const segmenter = new FfmpegRemuxer({
      ffmpegPath: 'ffmpeg',
      hlsDir,
      segmentSeconds: 1,
      listSize: 6,
      streamId: newStreamId(),
      logger: silentLogger,
      ...overrides,
    });
    cleanup.add(() => segmenter.close());
    const ingest = new UdpIngest({ listen: input, logger: silentLogger });
    cleanup.add(() => ingest.close());
    await ingest.open();
    ingest.setSink((chunk) => segmenter.write(chunk));
    return { hlsDir, input, ingest, segmenter, watcher: new PlaylistWatcher(hlsDir, silentLogger) };
  }

  test('turns the camera’s stream, through the ingest, into a playable playlist, and stops on close', async () => {
    const { hlsDir, input, segmenter, watcher } = await setup();
    await segmenter.start();
    expect(await processesMatching(hlsDir)).toEqual([segmenter.pid]);

    const camera = startCameraSource(input);
    cleanup.add(() => camera.stop());
    await watcher.waitUntilPlayable({
      signal: AbortSignal.timeout(15_000),
      acceptSegment: (uri) => isSegmentOf(segmenter.streamId, uri),
    });
    const playlist = await watcher.read();
    expect(playlist?.segments.length).toBeGreaterThanOrEqual(1);
    expect(playlist?.segments[0]!.duration).toBeGreaterThan(0.5);
    expect(playlist?.segments[0]!.uri).toMatch(new RegExp(`^${segmenter.streamId}-\\d{5}\\.ts$`));

    const exit = await segmenter.close();
    expect(exit).toMatchObject({ requested: true, duringStart: false });
    expect(await processesMatching(hlsDir)).toEqual([]);
    // Calls after close are refused, close itself stays idempotent.
    await expect(segmenter.start()).rejects.toBeInstanceOf(InvalidStateError);
    expect(await segmenter.close()).toBe(exit);
    expect((await readdir(hlsDir)).some((name) => name.endsWith('.ts'))).toBe(true);
  });

  test('closes without SIGKILL after the camera went silent (ffmpeg waiting for input)', async () => {
    // The usual stop: the camera stops first (mosquitto_pub stop), then the segmenter is closed.
    const { hlsDir, input, segmenter, watcher } = await setup();
    await segmenter.start();
    const camera = startCameraSource(input);
    cleanup.add(() => camera.stop());
    await watcher.waitUntilPlayable({
      signal: AbortSignal.timeout(15_000),
      acceptSegment: (uri) => isSegmentOf(segmenter.streamId, uri),
    });
    await camera.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const began = Date.now();
    const exit = await segmenter.close();
    expect(exit.signal).not.toBe('SIGKILL');
    expect(Date.now() - began).toBeLessThan(2000);
    expect(await processesMatching(hlsDir)).toEqual([]);
  });

  test('closes quickly while ffmpeg still waits for its first packet', async () => {
    const { hlsDir, segmenter } = await setup();
    await segmenter.start();
    const began = Date.now();
    await segmenter.close();
    expect(Date.now() - began).toBeLessThan(1000);
    expect(await processesMatching(hlsDir)).toEqual([]);
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

  test('the watcher resolves at once for a playlist that is already playable, and honours abort', async () => {
    const hlsDir = await mkdtemp(join(tmpdir(), 'camstream-ws-seg-'));
    cleanup.add(() => rm(hlsDir, { recursive: true, force: true }));
    const watcher = new PlaylistWatcher(hlsDir, silentLogger);
    const controller = new AbortController();
    const waiting = watcher.waitUntilPlayable({ signal: controller.signal });
    controller.abort(new Error('stop waiting'));
    await expect(waiting).rejects.toThrow('stop waiting');

    await writeFile(
      join(hlsDir, 'stream.m3u8'),
      '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nx-00000.ts\n',
    );
    await watcher.waitUntilPlayable({ signal: AbortSignal.timeout(5000) });
  });
});
