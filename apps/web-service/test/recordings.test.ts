/**
 * Recordings, the pure parts (ids, RECORD_MIN_FREE, playlists, retention's choice) and the recorder
 * with real fMP4 from ffmpeg (made as the remuxer makes it), read by the real media reader and
 * delivered through the fan-out into a temporary RECORD_DIR: ffprobe plays what it wrote, the store
 * rebuilds its index from the disk, and the MP4 remux makes one faststart file.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { MediaReader } from '../src/ingest/media-reader.js';
import { Fanout } from '../src/outputs/fanout.js';
import { newStreamId } from '../src/outputs/names.js';
import { parseRecordingId, recordingName } from '../src/outputs/recordings/ids.js';
import { remuxToMp4 } from '../src/outputs/recordings/mp4.js';
import { RecordingOutput } from '../src/outputs/recordings/output.js';
import {
  parseRecordingPlaylist,
  renderRecordingPlaylist,
  type RecordedSegment,
} from '../src/outputs/recordings/playlist.js';
import { chooseExpired, Retention } from '../src/outputs/recordings/retention.js';
import { parseMinFree, type RecordMode } from '../src/outputs/recordings/settings.js';
import { RecordingStore, type RecordingEntry } from '../src/outputs/recordings/store.js';
import { encodeFmp4, splitFmp4, topLevelBoxes } from './helpers/fmp4-media.js';
import { silentLogger } from './helpers/logger.js';
import { tempDir, useCleanup } from '../../../test/helpers/cleanup.js';
import { probeDuration } from '../../../test/helpers/ffprobe.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { waitFor } from '../../../test/helpers/wait.js';

const DAY = 86_400_000;

describe('recording ids', () => {
  test('name a camera and a UTC start; only such names are read back', () => {
    const start = Date.UTC(2026, 11, 5, 23, 55, 34, 123);
    const { id, date, time } = recordingName('cam-1.a', start);
    expect(id).toBe('cam-1.a~2026-12-05~23-55-34.123Z');
    expect([date, time]).toEqual(['2026-12-05', '23-55-34.123Z']);
    expect(parseRecordingId(id)).toEqual({ cameraId: 'cam-1.a', date, time, startMs: start });
    for (const bad of [
      '..~2026-12-05~23-55-34.123Z',
      'cam1~2026-12-05',
      'cam1~2026-12-05~../x',
      'a~b~c~d',
      '',
    ]) {
      expect(parseRecordingId(bad)).toBeUndefined();
    }
  });
});

describe('RECORD_MIN_FREE', () => {
  test('sizes with units, or a percentage', () => {
    expect(parseMinFree('1GiB')).toEqual({ bytes: 2 ** 30 });
    expect(parseMinFree('500MB')).toEqual({ bytes: 5e8 });
    expect(parseMinFree('2000')).toEqual({ bytes: 2000 });
    expect(parseMinFree('1.5 GB')).toEqual({ bytes: 1.5e9 });
    expect(parseMinFree('10%')).toEqual({ percent: 10 });
    expect(parseMinFree('100%')).toEqual({ percent: 100 });
    for (const bad of ['', 'lots', '1 parsec', '101%', '-1GB', '5%%'])
      expect(() => parseMinFree(bad)).toThrow();
  });
});

describe('recording playlists', () => {
  const segment = (n: number, duration: number, extra: Partial<RecordedSegment> = {}): RecordedSegment => ({
    name: `seg-${String(n).padStart(5, '0')}.m4s`,
    duration,
    init: 'init-0.mp4',
    discontinuity: false,
    programDateTime: Date.UTC(2026, 0, 1) + n * 4000,
    ...extra,
  });

  test('EVENT while written, VOD with ENDLIST once ended; read back as written', () => {
    const segments = [
      segment(0, 4),
      segment(1, 4.4),
      segment(2, 2, { discontinuity: true, init: 'init-1.mp4' }),
    ];
    const open = renderRecordingPlaylist(segments, false);
    expect(open).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(open).not.toContain('#EXT-X-ENDLIST');
    const ended = renderRecordingPlaylist(segments, true);
    expect(ended).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(ended).toContain('#EXT-X-TARGETDURATION:4'); // 4.4 rounds to 4
    expect(ended.match(/#EXT-X-MAP/g)).toHaveLength(2);
    expect(ended).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-1.mp4"\n#EXT-X-PROGRAM-DATE-TIME/);
    expect(ended.endsWith('#EXT-X-ENDLIST\n')).toBe(true);
    expect(parseRecordingPlaylist(open)).toEqual({ segments, ended: false });
    expect(parseRecordingPlaylist(ended).ended).toBe(true);
    expect(renderRecordingPlaylist([segment(0, 4.6)], true)).toContain('#EXT-X-TARGETDURATION:5');
  });
});

describe('retention', () => {
  const now = Date.UTC(2026, 11, 6);
  const entry = (n: number, ageDays: number, bytes = 100, recording = false): RecordingEntry => ({
    id: `cam1~r${n}`,
    cameraId: 'cam1',
    startMs: now - ageDays * DAY,
    endMs: now - ageDays * DAY + 60_000,
    duration: 60,
    bytes,
    recording,
    dir: `/nowhere/${n}`,
  });
  const ids = (entries: RecordingEntry[]) => entries.map((e) => e.id);

  test('by age: older than RECORD_KEEP_DAYS; 0 keeps them all', () => {
    const entries = [entry(2, 1), entry(1, 10), entry(3, 0.1)];
    const disk = { free: 1e12, size: 2e12 };
    expect(ids(chooseExpired(entries, { keepDays: 7, minFree: { bytes: 0 } }, now, disk))).toEqual([
      'cam1~r1',
    ]);
    expect(chooseExpired(entries, { keepDays: 0, minFree: { bytes: 0 } }, now, disk)).toEqual([]);
  });

  test('by free space: the oldest first, until enough is free; never one still being written', () => {
    const entries = [entry(3, 1, 300), entry(1, 3, 100), entry(2, 2, 200), entry(4, 0, 1000, true)];
    const policy = (minFree: number) => ({ keepDays: 0, minFree: { bytes: minFree } });
    const disk = { free: 1000, size: 10_000 };
    expect(chooseExpired(entries, policy(1000), now, disk)).toEqual([]);
    expect(ids(chooseExpired(entries, policy(1050), now, disk))).toEqual(['cam1~r1']);
    expect(ids(chooseExpired(entries, policy(1150), now, disk))).toEqual(['cam1~r1', 'cam1~r2']);
    expect(ids(chooseExpired(entries, policy(1e9), now, disk))).toEqual(['cam1~r1', 'cam1~r2', 'cam1~r3']);
    expect(ids(chooseExpired(entries, { keepDays: 0, minFree: { percent: 11 } }, now, disk))).toEqual([
      'cam1~r1',
    ]);
  });
});

describe.runIf(haveTools('ffmpeg', 'ffprobe'))('the recorder, the store and the MP4', () => {
  const cleanup = useCleanup();
  let media: { init: Buffer; fragments: Buffer[] }; // 6 s at 30 fps, a keyframe a second
  beforeAll(async () => {
    media = splitFmp4(await encodeFmp4({ seconds: 6 }));
  });

  async function setup(mode: RecordMode = 'on-demand', maxRecordingMs?: number) {
    const dir = await tempDir(cleanup, 'camstream-ws-rec-');
    const store = new RecordingStore(dir, silentLogger);
    let clock = Date.UTC(2026, 11, 5, 12, 0, 0);
    const output = new RecordingOutput({
      cameraId: 'cam1',
      mode,
      store,
      logger: silentLogger,
      segmentSeconds: 2,
      now: () => clock,
      ...(maxRecordingMs !== undefined && { maxRecordingMs }),
    });
    const fanout = new Fanout([output], { logger: silentLogger });
    const run = (restart = false) => {
      const reader = new MediaReader({ streamId: newStreamId(), restart, sink: fanout });
      reader.push(media.init);
      return (from: number, to: number) => {
        for (let i = from; i < to; i += 1) {
          clock += 1000 / 30;
          reader.push(media.fragments[i]!);
        }
      };
    };
    const settled = () =>
      waitFor('the writes', () => {
        const { queuedFrames, busy } = fanout.stats()[0]!.stats;
        return queuedFrames === 0 && !busy;
      });
    return { dir, store, output, fanout, run, settled };
  }

  test('nothing is recorded unless wanted (on-demand)', async () => {
    const { dir, output, fanout, run, settled } = await setup();
    await fanout.clear();
    run()(0, 90);
    await settled();
    await fanout.clear();
    expect(output.recording).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  test('wanted: segments from keyframe to keyframe, a playlist that grows, VOD once stopped; ffprobe plays it', async () => {
    const { store, output, fanout, run, settled } = await setup();
    void output.want(true);
    await fanout.clear(); // a start's: the wish holds for the stream it begins
    expect(output.recording).toBe(true);
    const frames = run();
    frames(0, 100);
    await settled();
    const [entry] = store.list();
    expect(entry).toMatchObject({
      cameraId: 'cam1',
      recording: true,
      startMs: Date.UTC(2026, 11, 5, 12, 0, 0) + 33,
    });
    expect(entry!.id).toBe('cam1~2026-12-05~12-00-00.033Z');
    const open = parseRecordingPlaylist(await readFile(join(entry!.dir, 'playlist.m3u8'), 'utf8'));
    expect(open.ended).toBe(false);
    expect(open.segments.map((s) => Math.round(s.duration * 30))).toEqual([60]); // 60-99 still open
    frames(100, 180);
    await settled();
    await fanout.clear(); // a stop
    expect(output.recording).toBe(false);
    expect(entry).toMatchObject({ recording: false });
    expect(entry!.duration).toBeCloseTo(6, 5);
    const files = (await readdir(entry!.dir)).sort();
    expect(files).toEqual(['init-0.mp4', 'playlist.m3u8', 'seg-00000.m4s', 'seg-00001.m4s', 'seg-00002.m4s']);
    expect(await readFile(join(entry!.dir, 'seg-00001.m4s'))).toEqual(
      Buffer.concat(media.fragments.slice(60, 120)),
    );
    const text = await readFile(join(entry!.dir, 'playlist.m3u8'), 'utf8');
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(await probeDuration(join(entry!.dir, 'playlist.m3u8'))).toBeCloseTo(6, 1);

    // The MP4: one file, moov before mdat, 6 s.
    const mp4 = await remuxToMp4(join(entry!.dir, 'playlist.m3u8'), {
      ffmpegPath: 'ffmpeg',
      logger: silentLogger,
    });
    cleanup.add(() => mp4.remove());
    const boxes = topLevelBoxes(await readFile(mp4.path)).map((box) => box.type);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    expect(boxes).not.toContain('moof');
    expect(await probeDuration(mp4.path)).toBeCloseTo(6, 1);
    await mp4.remove();
  }, 30_000);

  test('a gap and a restarted remuxer: discontinuities, the new run’s init; want(false) ends it at once', async () => {
    const { store, output, fanout, run, settled } = await setup('on-demand');
    void output.want(true);
    await fanout.clear();
    run()(0, 70);
    fanout.gap({ reason: 'no video' });
    run(true)(0, 45);
    await settled();
    await output.want(false);
    const [entry] = store.list();
    const { segments, ended } = parseRecordingPlaylist(
      await readFile(join(entry!.dir, 'playlist.m3u8'), 'utf8'),
    );
    expect(ended).toBe(true);
    expect(segments.map((s) => [s.init, s.discontinuity, Math.round(s.duration * 30)])).toEqual([
      ['init-0.mp4', false, 60],
      ['init-0.mp4', false, 10], // cut short by the gap
      ['init-1.mp4', true, 45],
    ]);
    expect(output.recording).toBe(false);
  });

  test('cut after RECORD_MAX_SECONDS: the next recording is announced once the one before is closed', async () => {
    // 3.5 s: the frames that waited for the first folder reach the 2 s keyframe at a clock of 3.3 s.
    const { store, output, fanout, run, settled } = await setup('on-demand', 3_500);
    // What a listener (the camera, then the page) finds when told: the list as it is then.
    const told: { id: string; listed: [string, boolean][] }[] = [];
    output.on('opened', (id) =>
      told.push({ id, listed: store.list().map((e) => [e.id, e.recording] as [string, boolean]) }),
    );
    void output.want(true);
    await fanout.clear();
    expect(output.currentId).toBeUndefined();
    const frames = run(); // segments end at 2 s and 4 s; the cut at 4 s
    frames(0, 100); // (more than 150 frames at once would be too many for a busy output)
    await settled();
    frames(100, 180);
    await settled();
    // The first closed at the cut; the second is listed once its first segment is written.
    const [first] = store.list();
    expect(store.list()).toHaveLength(1);
    expect(first).toMatchObject({ recording: false });
    expect(first!.duration).toBeCloseTo(4, 5);
    expect(told).toHaveLength(2);
    expect(told[0]).toEqual({ id: first!.id, listed: [] }); // its first segment not written yet
    // The next is announced once the one before is closed (VOD, listed as finished).
    expect(told[1]!.listed).toEqual([[first!.id, false]]);
    expect(told[1]!.id > first!.id).toBe(true);
    expect(output.currentId).toBe(told[1]!.id);
    await fanout.clear(); // a stop
    expect(output.currentId).toBeUndefined();
    expect(store.list().map((e) => [e.id, e.recording])).toEqual([
      [first!.id, false],
      [told[1]!.id, false],
    ]);
    expect(told).toHaveLength(2);
  });

  test('always: every stream; the index is rebuilt from disk, a recording left open closed', async () => {
    const { dir, store, fanout, run, settled } = await setup('always');
    await fanout.clear();
    run()(0, 100);
    await settled(); // no stop: as a crash leaves it
    const [entry] = store.list();
    const rebuilt = new RecordingStore(dir, silentLogger);
    await rebuilt.scan();
    expect(rebuilt.list()).toEqual([
      { ...entry, recording: false, bytes: expect.any(Number), endMs: expect.any(Number) },
    ]);
    const [read] = rebuilt.list();
    expect(read!.endMs).toBeCloseTo(entry!.endMs, -1);
    expect(await readFile(join(entry!.dir, 'playlist.m3u8'), 'utf8')).toMatch(/#EXT-X-ENDLIST\n$/);
    // Someone else's files and folders are not recordings.
    await writeFile(join(dir, 'notes.txt'), 'x');
    const again = new RecordingStore(dir, silentLogger);
    await again.scan();
    expect(again.list()).toHaveLength(1);

    // Retention deletes the oldest first (a disk that is nearly full, which a test cannot cause).
    const retention = new Retention({
      store: again,
      policy: { keepDays: 0, minFree: { bytes: 10 } },
      logger: silentLogger,
      disk: async () => ({ free: 0, size: 100 }),
    });
    expect((await retention.check()).map((e) => e.id)).toEqual([entry!.id]);
    expect(await readdir(dir)).toEqual(['notes.txt']); // empty camera and date folders go too
  });
});
