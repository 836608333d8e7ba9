/**
 * Recordings (outputs/recordings/), end to end with the service and agent CLIs on the test source and
 * a real Mosquitto: a start with `"record": true` records the stream from the one ingest; ffprobe
 * plays its VOD playlist for as long as it was recorded (10 ± 1 s) and reads its MP4 download
 * (faststart: moov before mdat) as H.264; a service killed while recording leaves a playable
 * recording, closed at the next boot; retention deletes the oldest first. Then a camera that is not
 * ours (plain ffmpeg straight to the UDP port: a keyframe a second, none early, ffmpeg's own mpegts
 * muxer): its recording plays for as long as it was recorded too.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { tempDir, useCleanup } from './helpers/cleanup.js';
import { ForeignCamera } from './helpers/foreign-camera.js';
import { expectPlayableMp4, listRecordings, probe, readThrough } from './helpers/recordings.js';
import { json, startSystem, type System } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(ready)('recordings', () => {
  const shared = useCleanup('file');
  const cleanup = useCleanup();
  let system: System;
  let recordDir: string;
  const webEnv: Record<string, string> = {
    WEBRTC: 'off',
    RECORD: 'on-demand',
    RECORD_KEEP_DAYS: '0',
    RECORD_MIN_FREE: '0',
  };
  const list = (query = '') => listRecordings(system, query);

  beforeAll(async () => {
    recordDir = await tempDir(shared, 'camstream-test-rec-');
    webEnv.RECORD_DIR = recordDir;
    system = await startSystem(shared, { broker: 'mosquitto', webEnv });
  }, 60_000);

  test('bad input: a record that is not a boolean, unknown keys, bad times, unknown recordings', async () => {
    for (const body of [{ record: 'yes' }, { record: 1 }, { recrd: true }]) {
      expect(await system.api('/api/stream/start', json(body))).toMatchObject({
        status: 400,
        body: { code: 'WEB_ERR_BAD_REQUEST' },
      });
    }
    expect(await system.api('/api/recordings?from=yesterday')).toMatchObject({ status: 400 });
    expect(await system.api('/api/recordings?cam=cam1')).toMatchObject({ status: 400 });
    const unknown = 'cam1~2020-01-01~00-00-00.000Z';
    for (const path of [`/api/recordings/${unknown}/playlist.m3u8`, `/api/recordings/${unknown}.mp4`]) {
      expect(await system.api(path)).toMatchObject({
        status: 404,
        body: { code: 'WEB_ERR_UNKNOWN_RECORDING' },
      });
    }
    expect(await list()).toEqual([]);
  });

  test('a 10 s recording: listed, its VOD playlist plays for 10 ± 1 s, its MP4 downloads and decodes', async () => {
    expect(await system.api('/api/stream/start', json({ record: true }))).toMatchObject({ status: 200 });
    const started = performance.now();
    expect((await system.api('/api/stream')).body).toMatchObject({ state: 'live', recording: true });
    await waitFor('the recording listed while it is written', async () => (await list()).length === 1);
    const [during] = await list('?camera=cam1');
    expect(during).toMatchObject({ cameraId: 'cam1', recording: true });
    expect(await system.api(`${during!.mp4Url}`)).toMatchObject({
      status: 409,
      body: { code: 'WEB_ERR_RECORDING_IN_PROGRESS' },
    });
    await sleep(10_000 - (performance.now() - started));
    expect(await system.api('/api/stream/stop', json())).toMatchObject({ status: 200 });
    expect((await system.api('/api/stream')).body).toMatchObject({ state: 'idle', recording: false });

    const recordings = await list();
    expect(recordings).toHaveLength(1);
    const recording = recordings[0]!;
    expect(recording).toMatchObject({ id: during!.id, cameraId: 'cam1', recording: false });
    expect(recording.duration).toBeGreaterThan(9);
    expect(recording.duration).toBeLessThan(11);
    expect(recording.bytes).toBeGreaterThan(10_000);
    expect(Date.parse(recording.end) - Date.parse(recording.start)).toBeGreaterThan(9000);

    const playlist = await system.api(recording.playlistUrl);
    expect(playlist.headers.get('content-type')).toContain('application/vnd.apple.mpegurl');
    expect(playlist.body).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(playlist.body).toMatch(/#EXT-X-ENDLIST\n$/);
    const played = await probe(`${system.baseUrl}${recording.playlistUrl}`);
    console.log(
      `recording: ${recording.duration} s listed, ${played.duration} s played, ${recording.bytes} bytes`,
    );
    expect(played).toMatchObject({ codec: 'h264', width: 640 });
    expect(played.duration).toBeGreaterThan(9);
    expect(played.duration).toBeLessThan(11);

    const downloaded = await expectPlayableMp4(system, recording, cleanup);
    expect(downloaded.duration).toBeGreaterThan(9);
    expect(downloaded.duration).toBeLessThan(11);
  }, 60_000);

  test('a start without "record" records nothing (RECORD=on-demand); filters by camera and time', async () => {
    const before = await list();
    expect(await system.api('/api/stream/start', json())).toMatchObject({ status: 200 });
    expect((await system.api('/api/stream')).body).toMatchObject({ recording: false });
    await sleep(2000);
    expect(await system.api('/api/stream/stop', json())).toMatchObject({ status: 200 });
    expect(await list()).toEqual(before);
    expect(await list('?camera=cam2')).toEqual([]);
    expect(await list(`?from=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([]);
    expect(await list(`?to=${new Date(Date.parse(before[0]!.start) + 1000).toISOString()}`)).toHaveLength(1);
  }, 30_000);

  test('a service killed while recording leaves a playable recording, closed (VOD) at the next boot', async () => {
    expect(await system.api('/api/cameras/cam1/start', json({ record: true }))).toMatchObject({
      status: 200,
    });
    await waitFor('two recordings listed', async () => (await list()).length === 2, {
      timeoutMs: 20_000,
    });
    await sleep(5000);
    const [, open] = await list();
    system.web.proc.kill('SIGKILL');
    await system.web.stop();
    const text = await readFile(
      join(recordDir, 'cam1', open!.id.split('~')[1]!, open!.id.split('~')[2]!, 'playlist.m3u8'),
      'utf8',
    );
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(text).not.toContain('#EXT-X-ENDLIST');
    await system.startWeb();
    const recordings = await list();
    expect(recordings).toHaveLength(2);
    expect(recordings[1]).toMatchObject({ id: open!.id, recording: false });
    const playlist = await system.api(recordings[1]!.playlistUrl);
    expect(playlist.body).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(playlist.body).toContain('#EXT-X-ENDLIST');
    const played = await probe(`${system.baseUrl}${recordings[1]!.playlistUrl}`);
    expect(played.duration).toBeGreaterThan(3);
    await system.api('/api/stream/stop', json());
  }, 60_000);

  test('retention: while free space is short (RECORD_MIN_FREE=100%), the oldest recordings go first', async () => {
    const ids = (await list()).map((recording) => recording.id);
    expect(ids).toHaveLength(2);
    webEnv.RECORD_MIN_FREE = '100%';
    await system.startWeb();
    await waitFor('every recording deleted', async () => (await list()).length === 0);
    const deleted = system.web
      .output()
      .split('\n')
      .filter((line) => line.includes('recording deleted'))
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(deleted).toEqual(ids);
  }, 60_000);
});

describe.runIf(ready)('recordings of a camera that is not ours', () => {
  const cleanup = useCleanup();

  test('a 10 s recording of plain ffmpeg plays for 10 ± 1 s, as a playlist and as an MP4', async () => {
    const recordDir = await tempDir(cleanup, 'camstream-test-rec-foreign-');
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      agent: false,
      webEnv: { WEBRTC: 'off', RECORD: 'on-demand', RECORD_DIR: recordDir, RECORD_MIN_FREE: '0' },
    });
    const camera = await ForeignCamera.connect({
      mqttUrl: system.mqttUrl,
      target: `udp://127.0.0.1:${system.udpPort}`,
    });
    cleanup.add(() => camera.close());
    await waitFor('the service to see the camera idle', async () => {
      const { body } = await system.api('/api/stream');
      return (body as { camera?: { state?: string } | null }).camera?.state === 'idle';
    });

    const start = await system.api('/api/stream/start', json({ record: true }));
    expect(start, camera.encoderLog()).toMatchObject({ status: 200, body: { state: 'live' } });
    const started = performance.now();
    await sleep(10_000);
    expect(await system.api('/api/stream/stop', json())).toMatchObject({ status: 200 });
    const wallSeconds = (performance.now() - started) / 1000;

    const [recording, ...more] = await listRecordings(system);
    expect(more).toEqual([]);
    expect(recording).toMatchObject({ cameraId: 'cam1', recording: false });
    const playlistUrl = `${system.baseUrl}${recording!.playlistUrl}`;
    const played = await probe(playlistUrl);
    const read = await readThrough(playlistUrl);
    const downloaded = await expectPlayableMp4(system, recording!, cleanup);
    console.log(
      `foreign camera: ${wallSeconds.toFixed(2)} s recorded, ${recording!.duration} s listed, ` +
        `${played.duration} s played, ${read.seconds.toFixed(2)} s read, MP4 ${downloaded.duration} s`,
    );
    expect(played).toMatchObject({ codec: 'h264', width: 640 });
    expect(read.stderr).toBe('');
    expect(read.keyframes).toBeGreaterThanOrEqual(9); // a keyframe a second
    for (const seconds of [recording!.duration, played.duration, read.seconds, downloaded.duration]) {
      expect(seconds).toBeGreaterThan(wallSeconds - 1);
      expect(seconds).toBeLessThan(wallSeconds + 1);
    }
  }, 90_000);
});
