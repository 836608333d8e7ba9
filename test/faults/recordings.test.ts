/**
 * A recording across a fault of the service's pipeline, caused for real: the remuxer (the service's
 * ffmpeg child that turns the camera's MPEG-TS into fMP4, as in faults/service.test.ts) SIGKILLed
 * while recording. The recording goes on in the same folder after EXT-X-DISCONTINUITY with the new
 * run's init segment; its VOD playlist is read from end to end by ffprobe (hls-parser judges its
 * tags), and its MP4 download is one file that plays for as long: faststart, every frame decodes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import HLS from 'hls-parser';
import { describe, expect, test } from 'vitest';
import { tempDir, useCleanup } from '../helpers/cleanup.js';
import { alive } from '../helpers/faults.js';
import { recordFigures } from '../helpers/figures.js';
import { expectPlayableMp4, listRecordings, probe, readThrough } from '../helpers/recordings.js';
import { json, startSystem } from '../helpers/system.js';
import { haveTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto');

describe.runIf(ready)('a recording across a restart of the service’s remuxer', () => {
  const cleanup = useCleanup();

  test('the remuxer SIGKILLed while recording: one recording, a discontinuity, a valid VOD playlist and one playable MP4, as long as the wall time', async () => {
    const recordDir = await tempDir(cleanup, 'camstream-test-rec-fault-');
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      webEnv: { WEBRTC: 'off', RECORD: 'on-demand', RECORD_DIR: recordDir, RECORD_MIN_FREE: '0' },
    });
    expect(await system.api('/api/stream/start', json({ record: true }))).toMatchObject({
      status: 200,
      body: { state: 'live' },
    });
    const started = performance.now();
    expect((await system.api('/api/stream')).body).toMatchObject({ recording: true });
    await waitFor('the recording listed', async () => (await listRecordings(system)).length === 1);
    await sleep(6000 - (performance.now() - started));

    const [killed] = await system.segmenterPids();
    const killedAt = performance.now();
    process.kill(killed!, 'SIGKILL');
    await waitFor('a new remuxer', async () => {
      const pids = await system.segmenterPids();
      return pids.length === 1 && pids[0] !== killed;
    });
    // The new run's first segment is written (and listed) at the keyframe that ends it, ~4 s on.
    await waitFor(
      'the new run in the recording’s playlist',
      async () => {
        const [open] = await listRecordings(system);
        const text = (await system.api(open!.playlistUrl)).body as string;
        return text.includes('#EXT-X-DISCONTINUITY');
      },
      { timeoutMs: 15_000 },
    );
    const resumedMs = performance.now() - killedAt;
    expect(alive(killed!)).toBe(false);
    await sleep(14_000 - (performance.now() - started));
    expect(await system.api('/api/stream/stop', json())).toMatchObject({ status: 200 });
    const wallSeconds = (performance.now() - started) / 1000;

    const recordings = await listRecordings(system);
    expect(recordings).toHaveLength(1);
    const recording = recordings[0]!;
    expect(recording).toMatchObject({ cameraId: 'cam1', recording: false });

    // The playlist: VOD, ended, two runs (two EXT-X-MAPs) with one discontinuity between them, the
    // second run's wall clock after the first run's end.
    const text = (await system.api(recording.playlistUrl)).body as string;
    const playlist = HLS.parse(text) as HLS.types.MediaPlaylist;
    expect(playlist.isMasterPlaylist).toBe(false);
    expect(playlist.playlistType).toBe('VOD');
    expect(playlist.endlist).toBe(true);
    expect(text.match(/#EXT-X-DISCONTINUITY\n/g), text).toHaveLength(1);
    expect(text.match(/#EXT-X-MAP:URI="(init-\d+\.mp4)"/g), text).toEqual([
      '#EXT-X-MAP:URI="init-0.mp4"',
      '#EXT-X-MAP:URI="init-1.mp4"',
    ]);
    const after = playlist.segments.findIndex((segment) => segment.discontinuity);
    expect(after).toBeGreaterThan(0);
    // The date is written on the first segment and after each discontinuity.
    const firstRun = playlist.segments.slice(0, after);
    const endOfFirstRun =
      firstRun[0]!.programDateTime!.getTime() + firstRun.reduce((sum, s) => sum + s.duration * 1000, 0);
    expect(playlist.segments[after]!.programDateTime!.getTime()).toBeGreaterThanOrEqual(endOfFirstRun - 100);
    const listed = playlist.segments.reduce((sum, segment) => sum + segment.duration, 0);

    // ffprobe reads the playlist from the first packet to the last, without an error.
    const url = `${system.baseUrl}${recording.playlistUrl}`;
    const played = await probe(url);
    const read = await readThrough(url);
    expect(played).toMatchObject({ codec: 'h264', width: 640 });
    expect(read.stderr, 'ffprobe reading every packet of the playlist').toBe('');
    expect(read.keyframes).toBeGreaterThanOrEqual(10); // a keyframe a second

    const mp4 = await expectPlayableMp4(system, recording, cleanup);
    const figures = {
      wallSeconds: Number(wallSeconds.toFixed(2)),
      listedSeconds: recording.duration,
      playlistSeconds: played.duration,
      readSeconds: Number(read.seconds.toFixed(2)),
      mp4Seconds: mp4.duration,
      resumedMs: Math.round(resumedMs),
    };
    recordFigures(figures);
    // The wall time less what is lost until the new run's first keyframe (0.7-0.9 s here).
    for (const seconds of [listed, played.duration, read.seconds, mp4.duration]) {
      expect(seconds, JSON.stringify(figures)).toBeGreaterThan(wallSeconds - 1.5);
      expect(seconds, JSON.stringify(figures)).toBeLessThan(wallSeconds + 1.5);
    }
    // And the MP4 holds what the playlist lists: no frame lost or stretched across the jump back
    // to zero of the new run's timestamps.
    expect(Math.abs(mp4.duration - listed), JSON.stringify(figures)).toBeLessThan(0.1);
    expect(Math.abs(read.seconds - listed), JSON.stringify(figures)).toBeLessThan(0.1);
  }, 90_000);
});
