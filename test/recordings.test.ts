/**
 * Recordings (outputs/recordings/), end to end with the service and agent CLIs on the test source and
 * a real Mosquitto: a start with `"record": true` records the stream from the one ingest; ffprobe
 * plays its VOD playlist for as long as it was recorded (10 ± 1 s) and reads its MP4 download
 * (faststart: moov before mdat) as H.264; a service killed while recording leaves a playable
 * recording, closed at the next boot; retention deletes the oldest first.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Recording } from '@camstream/protocol';
import { useCleanup } from './helpers/cleanup.js';
import { json, startSystem, type System } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto');
const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ffprobe's duration (seconds) and first video stream of a file or URL. */
async function probe(input: string): Promise<{ duration: number; codec: string; width: number }> {
  const args = ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name,width', '-of', 'json'];
  const { stdout } = await execFileAsync('ffprobe', [...args, input], { timeout: 30_000 });
  const parsed = JSON.parse(stdout) as {
    format: { duration: string };
    streams: { codec_name: string; width: number }[];
  };
  const video = parsed.streams.find((stream) => stream.width > 0)!;
  return { duration: Number(parsed.format.duration), codec: video.codec_name, width: video.width };
}

/** The top-level boxes of an MP4 file, in order. */
function topLevelBoxes(mp4: Buffer): string[] {
  const types: string[] = [];
  for (let offset = 0; offset + 8 <= mp4.length;) {
    let size = mp4.readUInt32BE(offset);
    if (size === 1) size = Number(mp4.readBigUInt64BE(offset + 8));
    types.push(mp4.toString('latin1', offset + 4, offset + 8));
    if (size < 8) break;
    offset += size;
  }
  return types;
}

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
  const list = async (query = ''): Promise<Recording[]> => {
    const { status, body } = await system.api(`/api/recordings${query}`);
    expect(status).toBe(200);
    return (body as { recordings: Recording[] }).recordings;
  };

  beforeAll(async () => {
    recordDir = await mkdtemp(join(tmpdir(), 'camstream-test-rec-'));
    shared.add(() => rm(recordDir, { recursive: true, force: true }));
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

    const response = await fetch(`${system.baseUrl}${recording.mp4Url}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${recording.id}.mp4"`);
    const mp4 = Buffer.from(await response.arrayBuffer());
    const boxes = topLevelBoxes(mp4);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat')); // faststart
    const dir = await mkdtemp(join(tmpdir(), 'camstream-rec-mp4-'));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'download.mp4');
    await writeFile(file, mp4);
    const downloaded = await probe(file);
    expect(downloaded).toMatchObject({ codec: 'h264', width: 640 });
    expect(downloaded.duration).toBeGreaterThan(9);
    expect(downloaded.duration).toBeLessThan(11);
    // Every frame decodes.
    await execFileAsync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-'], {
      timeout: 60_000,
    });
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
