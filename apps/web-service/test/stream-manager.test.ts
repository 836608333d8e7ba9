/**
 * StreamManager against a fake camera link and a fake remuxer that writes real fMP4 (made by ffmpeg
 * beforehand) as ffmpeg would, through the real media reader, fan-out and plain HLS output to disk.
 * The real thing (ffmpeg, Mosquitto) is in service.int.test.ts.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { StreamManager, type CameraLinkLike } from '../src/stream/stream-manager.js';
import { tempDir, useCleanup } from '../../../test/helpers/cleanup.js';
import { FakeLink, FakeSegmenter, type FakeMedia } from './helpers/fake-stream.js';
import { encodeFmp4, splitFmp4 } from './helpers/fmp4-media.js';
import { silentLogger } from './helpers/logger.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { waitFor } from '../../../test/helpers/wait.js';

const ready = haveTools('ffmpeg');
/** 5 s of fMP4 at 30 fps, a keyframe a second (frames 0, 30, 60…). */
let media: FakeMedia;

describe.runIf(ready)('StreamManager', () => {
  const cleanup = useCleanup();

  beforeAll(async () => {
    media = splitFmp4(await encodeFmp4({ seconds: 5 }));
  });

  async function setup(startTimeoutMs = 5000, inputSilenceMs = 60_000, retryDelayMs = 1000) {
    const hlsDir = await tempDir(cleanup, 'camstream-ws-mgr-');
    const link = new FakeLink();
    const segmenters: FakeSegmenter[] = [];
    const manager = new StreamManager({
      config: {
        cameraId: 'cam1',
        hlsDir,
        udpListen: 'udp://127.0.0.1:1234',
        udpSources: undefined,
        cameraTarget: 'udp://10.0.0.2:1234',
        startTimeoutMs,
        inputSilenceMs,
        hlsMode: 'plain',
        hlsPartMs: undefined,
        hlsSegmentSeconds: 1,
        hlsListSize: 6,
        ffmpegPath: 'ffmpeg',
      },
      link: link as unknown as CameraLinkLike,
      logger: silentLogger,
      pickupRetry: { firstDelayMs: retryDelayMs, maxDelayMs: 4 * retryDelayMs },
      ingest: { open: async () => {}, close: async () => {}, setSink: () => {} },
      createRemuxer: (options) => {
        const segmenter = new FakeSegmenter(options, hlsDir, media);
        segmenters.push(segmenter);
        return segmenter;
      },
    });
    cleanup.add(() => manager.close());
    const states: string[] = [];
    manager.on('change', (info) => {
      if (states.at(-1) !== info.state) states.push(info.state);
    });
    const files = async () => (await readdir(hlsDir)).sort();
    return { hlsDir, link, manager, segmenters, states, files };
  }

  test('concurrent starts share one segmenter and one start command', async () => {
    const { link, manager, segmenters, states } = await setup();
    const starts = [manager.start(), manager.start(), manager.start()];
    await segmenterCount(segmenters);
    await waitFor('the start command', () => link.commands.length === 1);
    await segmenters[0]!.writeSegments(1);
    await Promise.all(starts);
    expect(segmenters).toHaveLength(1);
    expect(link.commands).toEqual([{ id: 'cmd-1', action: 'start', target: 'udp://10.0.0.2:1234' }]);
    expect(manager.info()).toMatchObject({ state: 'live', streamUrl: '/hls/stream.m3u8' });
    expect(states).toEqual(['starting', 'live']);
    await manager.start(); // already live: at once
    expect(segmenters).toHaveLength(1);
  });

  test('camera offline or never heard from: fails at once, spawns nothing', async () => {
    const { link, manager, segmenters } = await setup();
    link.setStatus('offline');
    await expect(manager.start()).rejects.toMatchObject({ code: 'WEB_ERR_CAMERA_OFFLINE', statusCode: 503 });
    link.status = null;
    await expect(manager.start()).rejects.toThrow(/never heard from/);
    link.connected = false;
    await expect(manager.start()).rejects.toMatchObject({ code: 'WEB_ERR_BROKER_UNAVAILABLE' });
    expect(segmenters).toHaveLength(0);
    expect(link.commands).toHaveLength(0);
    expect(manager.info()).toMatchObject({
      state: 'idle',
      lastError: { code: 'WEB_ERR_BROKER_UNAVAILABLE' },
    });
  });

  test('the camera says no: 502 with its reason, segmenter stopped, files gone', async () => {
    const { link, manager, segmenters, files } = await setup();
    const start = manager.start();
    await waitFor('the start command', () => link.commands.length === 1);
    link.reply('cmd-1', false, 'camera busy');
    await expect(start).rejects.toMatchObject({
      code: 'WEB_ERR_CAMERA_REJECTED',
      message: 'camera cam1 refused to start: camera busy',
    });
    expect(segmenters[0]!.closed).toBe(true);
    expect(link.commands.map((c) => c.action)).toEqual(['start']);
    expect(await files()).toEqual([]);
    expect(manager.info()).toMatchObject({ state: 'idle', lastError: { code: 'WEB_ERR_CAMERA_REJECTED' } });
  });

  test('no playable playlist in time: 504, the camera is told to stop, files gone', async () => {
    const { link, manager, segmenters, files } = await setup(300);
    const start = manager.start();
    await segmenterCount(segmenters);
    await expect(start).rejects.toMatchObject({ code: 'WEB_ERR_MANIFEST_TIMEOUT', statusCode: 504 });
    expect(link.commands.map((c) => c.action)).toEqual(['start', 'stop']);
    expect(segmenters[0]!.closed).toBe(true);
    expect(await files()).toEqual([]);
    expect(manager.info()).toMatchObject({ state: 'idle', lastError: { code: 'WEB_ERR_MANIFEST_TIMEOUT' } });

    // The next successful start clears the error.
    const again = manager.start();
    await waitFor('a second segmenter', () => segmenters.length === 2);
    await segmenters[1]!.writeSegments(1);
    await again;
    expect(manager.info().lastError).toBeUndefined();
  });

  test('stop: tells the camera, stops the segmenter, removes the files; cancels a waiting start', async () => {
    const { link, manager, segmenters, files, states } = await setup();
    const start = expect(manager.start()).rejects.toMatchObject({ code: 'WEB_ERR_START_CANCELLED' });
    await segmenterCount(segmenters);
    await manager.stop();
    await start;
    expect(link.commands.map((c) => c.action)).toEqual(['start', 'stop']);
    expect(segmenters[0]!.closed).toBe(true);
    expect(await files()).toEqual([]);
    expect(states).toEqual(['starting', 'stopping', 'idle']);
    expect(manager.info().lastError).toBeUndefined(); // a cancelled start is no failure
  });

  test('a stream started at the camera is picked up, and removed when the camera stops', async () => {
    const { link, manager, segmenters, files } = await setup();
    link.setStatus('starting');
    await segmenterCount(segmenters);
    link.setStatus('streaming'); // no second segmenter
    await segmenters[0]!.writeSegments(2);
    await waitFor('live', () => manager.state === 'live');
    expect(segmenters).toHaveLength(1);
    expect(link.commands).toEqual([]); // the service did not command anything

    link.setStatus('idle');
    await waitFor('idle', () => manager.state === 'idle');
    expect(segmenters[0]!.closed).toBe(true);
    expect(await files()).toEqual([]);
    expect(link.commands).toEqual([]);
  });

  test('after the service stops the camera, a late `streaming` is not picked up again', async () => {
    const { link, manager, segmenters } = await setup();
    await manager.stop();
    link.setStatus('streaming'); // published before the camera handled the stop
    link.setStatus('idle');
    expect(segmenters).toHaveLength(0);
    link.setStatus('starting'); // a new start from someone else
    await segmenterCount(segmenters);
  });

  test('a start given up because the camera said idle first, reaching the camera after all: the stream is picked up', async () => {
    const { link, manager, segmenters } = await setup();
    const start = expect(manager.start()).rejects.toMatchObject({ code: 'WEB_ERR_START_CANCELLED' });
    await segmenterCount(segmenters);
    link.setStatus('streaming'); // from an earlier start, published before that camera's stop
    link.setStatus('idle'); // that stop: the service gives this start up
    link.setStatus('starting'); // then the camera handles this start
    await start;
    link.setStatus('streaming');
    // The camera streams: the service serves it rather than leave it streaming to nobody.
    await waitFor('a second segmenter', () => segmenters.length === 2);
    await segmenters[1]!.writeSegments(1);
    await waitFor('live', () => manager.state === 'live');
    expect(link.commands.map((c) => c.action)).toEqual(['start']);
  });

  test('a pickup that finds no video is tried again while the camera says it streams; not once it stops', async () => {
    const { link, manager, segmenters } = await setup(200, 60_000, 100);
    link.setStatus('streaming'); // its video does not reach the service (a network cut, say)
    await waitFor('a failed pickup', () => manager.info().lastError?.code === 'WEB_ERR_MANIFEST_TIMEOUT');
    await waitFor('two more tries', () => segmenters.length >= 3, { timeoutMs: 5000 });
    expect(link.commands).toEqual([]); // a camera started by someone else is never told to stop
    // The video arrives at last: the next try goes live, and the delays start over.
    await waitFor('a waiting try', () => manager.state === 'starting' && !segmenters.at(-1)!.closed);
    await segmenters.at(-1)!.writeSegments(1);
    await waitFor('live', () => manager.state === 'live');
    expect(manager.info().lastError).toBeUndefined();

    link.setStatus('idle');
    await waitFor('idle', () => manager.state === 'idle');
    link.setStatus('streaming'); // and again without video, until the camera stops
    await waitFor('a failed pickup', () => manager.info().lastError?.code === 'WEB_ERR_MANIFEST_TIMEOUT');
    link.setStatus('idle');
    const tries = segmenters.length;
    await new Promise((resolve) => setTimeout(resolve, 600)); // longer than the longest delay
    expect(segmenters).toHaveLength(tries);
    expect(manager.state).toBe('idle');
  });

  test('a stop asked for while a pickup waits to be tried again: no more tries', async () => {
    const { link, manager, segmenters } = await setup(200, 60_000, 300);
    link.setStatus('streaming');
    await waitFor('a failed pickup', () => manager.info().lastError?.code === 'WEB_ERR_MANIFEST_TIMEOUT');
    await manager.stop();
    const tries = segmenters.length;
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(segmenters).toHaveLength(tries);
    expect(link.commands.map((c) => c.action)).toEqual(['stop']);
  });

  test('the same, with a stop requested meanwhile: nothing is picked up', async () => {
    const { link, manager, segmenters } = await setup();
    const start = expect(manager.start()).rejects.toMatchObject({ code: 'WEB_ERR_START_CANCELLED' });
    await segmenterCount(segmenters);
    link.setStatus('starting');
    const stop = manager.stop();
    await start;
    await stop;
    link.setStatus('streaming');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(segmenters).toHaveLength(1);
    expect(manager.state).toBe('idle');
    expect(link.commands.map((c) => c.action)).toEqual(['start', 'stop']);
  });

  test('the camera going offline while live, its video stopped, ends the stream with a recorded error', async () => {
    const { link, manager, segmenters } = await setup(5000, 300);
    const start = manager.start();
    await segmenterCount(segmenters);
    await segmenters[0]!.writeSegments(1);
    await start;
    link.setStatus('offline');
    await waitFor('idle', () => manager.state === 'idle');
    expect(manager.info().lastError).toMatchObject({ code: 'WEB_ERR_CAMERA_OFFLINE' });
  });

  test('offline on MQTT while its video still arrives (a broker restart): the stream stays', async () => {
    const { link, manager, segmenters } = await setup(5000, 300);
    const start = manager.start();
    await segmenterCount(segmenters);
    await segmenters[0]!.writeSegments(1);
    await start;
    const feed = setInterval(() => segmenters[0]!.emit('media'), 30);
    cleanup.add(() => clearInterval(feed));
    link.setStatus('offline');
    await new Promise((resolve) => setTimeout(resolve, 600)); // twice INPUT_SILENCE_MS
    expect(manager.state).toBe('live');
    expect(manager.info().input).toMatchObject({ state: 'receiving' });
    link.setStatus('streaming'); // the camera is back on the broker
    clearInterval(feed); // and then the video stops too, while it says it streams: silent, kept
    await waitFor('silent', () => manager.info().input?.state === 'silent');
    expect(manager.state).toBe('live');
    expect(segmenters).toHaveLength(1); // a silence replaces nothing: the outputs get a gap
    segmenters[0]!.emit('media');
    expect(manager.info().input).toMatchObject({ state: 'receiving' });
    link.setStatus('offline'); // offline, and the video stops again: over
    await waitFor('idle', () => manager.state === 'idle');
    expect(manager.info().lastError).toMatchObject({ code: 'WEB_ERR_CAMERA_OFFLINE' });
  });

  test('a segmenter that dies while live is replaced; the playlist continues with a discontinuity', async () => {
    const { manager, segmenters, files, hlsDir } = await setup();
    const start = manager.start();
    await segmenterCount(segmenters);
    await segmenters[0]!.writeSegments(3);
    await start;
    const old = segmenters[0]!;
    old.die();
    await waitFor('a second segmenter', () => segmenters.length === 2);
    const next = segmenters[1]!;
    expect(manager.state).toBe('live');
    await next.writeSegments(1);
    // As a fresh ffmpeg hls muxer did: the new run's first segment replaces the old run's (their
    // files go), after a discontinuity, with its own init segment; the media sequence goes on.
    await waitFor('old segments removed', async () =>
      (await files()).every((name) => !name.startsWith(old.streamId)),
    );
    expect(await files()).toEqual([`${next.streamId}-00004.m4s`, `${next.streamId}-init.mp4`, 'stream.m3u8']);
    const playlist = await readFile(join(hlsDir, 'stream.m3u8'), 'utf8');
    expect(playlist).toContain('#EXT-X-MEDIA-SEQUENCE:4\n');
    expect(playlist).toMatch(
      new RegExp(`#EXT-X-DISCONTINUITY\\n#EXT-X-MAP:URI="${next.streamId}-init.mp4"\\n`),
    );
    expect(manager.state).toBe('live');
  });

  test('no video for INPUT_SILENCE_MS: the same remuxer waits for it, the playlist starts afresh after a discontinuity', async () => {
    const { manager, segmenters, files, hlsDir } = await setup(200, 300);
    const start = manager.start();
    await segmenterCount(segmenters);
    await segmenters[0]!.writeSegments(2);
    await start;
    await waitFor('silent', () => manager.info().input?.state === 'silent'); // no media: silent
    // Longer than START_TIMEOUT_MS would allow a start: the camera may be away for a while.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(manager.state).toBe('live');
    expect(segmenters).toHaveLength(1);
    expect(segmenters[0]!.closed).toBe(false);
    await segmenters[0]!.writeSegments(1); // the video is back
    expect(manager.info().input?.state).toBe('receiving');
    // As a restarted ffmpeg hls muxer did: only the segments after the discontinuity are listed,
    // the media sequence going on (0 and 1, then 2 cut short by the silence).
    const playlist = await readFile(join(hlsDir, 'stream.m3u8'), 'utf8');
    expect(playlist).toContain('#EXT-X-MEDIA-SEQUENCE:3\n');
    expect(playlist.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
    expect(playlist.split('#EXT-X-DISCONTINUITY\n')[1]).toMatch(/#EXTINF:1\.0+,/);
    await waitFor('the segments before it removed', async () => (await files()).length === 3);
    await manager.stop();
    expect(segmenters[0]!.closed).toBe(true);
    expect(await files()).toEqual([]);
  });

  test(
    'a segmenter that keeps dying is never given up on: after three a minute it waits 1, 2, 4 s; a stop ends it',
    { timeout: 20_000 },
    async () => {
      const { link, manager, segmenters } = await setup();
      const start = manager.start();
      await segmenterCount(segmenters);
      await segmenters[0]!.writeSegments(1);
      await start;
      const replacedAfter: number[] = [];
      for (let n = 0; n < 5; n++) {
        const diedAt = Date.now();
        segmenters[n]!.die();
        await waitFor(`restart ${n + 1}`, () => segmenters.length === n + 2, { timeoutMs: 10_000 });
        replacedAfter.push(Date.now() - diedAt);
        await segmenters[n + 1]!.writeSegments(1);
      }
      // Three at once, then the fourth after 1 s and the fifth after 2 s; the stream live throughout.
      expect(replacedAfter.slice(0, 3).every((ms) => ms < 500)).toBe(true);
      expect(replacedAfter[3]).toBeGreaterThanOrEqual(950);
      expect(replacedAfter[4]).toBeGreaterThanOrEqual(1950);
      expect(manager.state).toBe('live');
      expect(manager.info().lastError).toMatchObject({
        code: 'WEB_ERR_SEGMENTER_FAILED',
        message: expect.stringContaining('trying again in 2 s'),
      });
      // Dying once more, then stopped during the 4 s wait: nothing is started after the stop.
      segmenters[5]!.die();
      await manager.stop();
      await new Promise((resolve) => setTimeout(resolve, 4500));
      expect(segmenters).toHaveLength(6);
      expect(manager.state).toBe('idle');
      expect(link.commands.map((c) => c.action)).toEqual(['start', 'stop']);
    },
  );

  test('shutdown while a start waits: the start answers WEB_ERR_SHUTTING_DOWN at once', async () => {
    const { manager, segmenters } = await setup();
    const start = expect(manager.start()).rejects.toMatchObject({ code: 'WEB_ERR_SHUTTING_DOWN' });
    await segmenterCount(segmenters);
    manager.refuseNewWork();
    await start;
    await manager.close();
    expect(segmenters[0]!.closed).toBe(true);
    expect(manager.state).toBe('idle');
  });

  test('a start queued behind a stop does not run after it', async () => {
    const { manager, segmenters, link } = await setup();
    const first = manager.stop(); // occupies the queue
    const start = expect(manager.start()).rejects.toMatchObject({ code: 'WEB_ERR_START_CANCELLED' });
    await manager.stop();
    await first;
    await start;
    expect(segmenters).toHaveLength(0);
    expect(link.commands.map((c) => c.action)).toEqual(['stop', 'stop']);
  });

  test('close: new starts are refused, the stream is removed, the camera is left alone', async () => {
    const { link, manager, segmenters, files } = await setup();
    const start = manager.start();
    await segmenterCount(segmenters);
    await segmenters[0]!.writeSegments(1);
    await start;
    await manager.close();
    await expect(manager.start()).rejects.toMatchObject({ code: 'WEB_ERR_SHUTTING_DOWN' });
    expect(segmenters[0]!.closed).toBe(true);
    expect(await files()).toEqual([]);
    expect(link.commands.map((c) => c.action)).toEqual(['start']);
  });
});

/** Waits for the first segmenter: the manager creates it after clearing the folder. */
function segmenterCount(segmenters: FakeSegmenter[]): Promise<true> {
  return waitFor('a segmenter', () => segmenters.length >= 1);
}
