/**
 * The plain HLS output with real fMP4 from ffmpeg (made as the remuxer makes it), read by the real
 * media reader and delivered through the fan-out, written to a temporary folder; every playlist is
 * read by hls-parser, an outside judge.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { MediaReader } from '../src/ingest/media-reader.js';
import { Fanout } from '../src/outputs/fanout.js';
import { initName, newStreamId, segmentName } from '../src/outputs/names.js';
import { PlainHlsOutput } from '../src/outputs/plain-hls/output.js';
import { renderPlainPlaylist } from '../src/outputs/plain-hls/playlist.js';
import { encodeFmp4, splitFmp4 } from './helpers/fmp4-media.js';
import { silentLogger } from './helpers/logger.js';
import { tempDir, useCleanup } from '../../../test/helpers/cleanup.js';
import { parseMediaPlaylist } from '../../../test/helpers/ll-hls.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { waitFor } from '../../../test/helpers/wait.js';

const ready = haveTools('ffmpeg');

interface Media {
  readonly init: Buffer;
  readonly fragments: Buffer[];
}

describe.runIf(ready)('PlainHlsOutput', () => {
  const cleanup = useCleanup();
  let steady: Media; // 6 s at 30 fps, a keyframe a second
  let drop: Media; // the same, its timestamps jumping 5 s after frame 44 (a network drop)
  beforeAll(async () => {
    const [a, b] = await Promise.all([
      encodeFmp4({ seconds: 6 }),
      encodeFmp4({ seconds: 6, setpts: 'N/(30*TB)+gte(N\\,45)*5/TB' }),
    ]);
    steady = splitFmp4(a);
    drop = splitFmp4(b);
  });

  async function setup(listSize = 6) {
    const dir = await tempDir(cleanup, 'camstream-ws-plain-');
    const output = new PlainHlsOutput({ dir, segmentSeconds: 1, listSize, logger: silentLogger });
    await output.clear();
    const fanout = new Fanout([output], { logger: silentLogger });
    /** A remuxer run: its init segment, then `frames(from, to)` as ffmpeg writes them. */
    const run = (media: Media, { restart = false } = {}) => {
      const streamId = newStreamId();
      const reader = new MediaReader({ streamId, restart, sink: fanout });
      reader.push(media.init);
      const frames = (from: number, to: number) => {
        for (let i = from; i < to; i += 1) reader.push(media.fragments[i]!);
      };
      return { streamId, frames };
    };
    const playlist = async () => parseMediaPlaylist(await readFile(join(dir, 'stream.m3u8'), 'utf8'));
    const files = async () => (await readdir(dir)).sort();
    /** Waits until the output has written everything delivered so far. */
    const settled = () =>
      waitFor('the writes', () => {
        const { queuedFrames, busy } = fanout.stats()[0]!.stats;
        return queuedFrames === 0 && !busy;
      });
    return { dir, output, fanout, run, playlist, files, settled };
  }

  test('segments of about a second from keyframe to keyframe, the init segment by EXT-X-MAP, playable once one is listed', async () => {
    const { dir, output, run, playlist, files, settled } = await setup();
    const { streamId, frames } = run(steady);
    const playable = output.waitUntilPlayable(streamId, AbortSignal.timeout(10_000));
    frames(0, 30);
    await settled();
    expect(await files()).toEqual([initName(streamId)]); // the first segment is not complete yet
    frames(30, 31); // the second keyframe ends it
    await playable;
    frames(31, 121);
    await settled();
    const list = await playlist();
    expect(list.targetDuration).toBe(1);
    expect(list.mediaSequenceBase).toBe(0);
    expect(list.segments.map((s) => s.uri)).toEqual([0, 1, 2, 3].map((n) => segmentName(streamId, n)));
    for (const segment of list.segments) {
      expect(segment.duration).toBeCloseTo(1, 5);
      expect(segment.map?.uri).toBe(initName(streamId));
      expect(segment.discontinuity).toBeFalsy();
      expect(segment.programDateTime).toBeInstanceOf(Date);
    }
    // The bytes as ffmpeg wrote them: the init segment, and each segment its 30 frames.
    expect(await readFile(join(dir, initName(streamId)))).toEqual(steady.init);
    expect(await readFile(join(dir, segmentName(streamId, 1)))).toEqual(
      Buffer.concat(steady.fragments.slice(30, 60)),
    );
    expect((await files()).some((name) => name.endsWith('.tmp'))).toBe(false);
  });

  test('a gap: the segment ends, frames wait for a keyframe, the playlist starts afresh after EXT-X-DISCONTINUITY', async () => {
    const { fanout, run, playlist, files, settled } = await setup();
    const { streamId, frames } = run(steady);
    frames(0, 45);
    fanout.gap({ reason: 'no video' });
    frames(45, 91);
    await settled();
    const list = await playlist();
    // 0 (frames 0-29) and 1 (30-44, cut short by the gap) are gone from the playlist and the disk;
    // 2 begins at the keyframe 60 (45-59 dropped), the media sequence going on.
    expect(list.mediaSequenceBase).toBe(2);
    expect(list.segments.map((s) => [s.uri, Boolean(s.discontinuity), Math.round(s.duration * 30)])).toEqual([
      [segmentName(streamId, 2), true, 30],
    ]);
    await waitFor('the segments before the gap removed', async () =>
      (await files()).every((name) => ![0, 1].some((n) => name === segmentName(streamId, n))),
    );
  });

  test('a network drop (the timestamps jump): the frame before it keeps an ordinary duration; a discontinuity follows', async () => {
    const { fanout, run, playlist, settled } = await setup();
    const { frames } = run(drop);
    frames(0, 121);
    await settled();
    expect(fanout.stats()[0]!.stats.droppedFrames).toBe(0);
    const list = await playlist();
    expect(list.segments.filter((s) => s.discontinuity)).toHaveLength(1);
    for (const segment of list.segments) expect(Math.round(segment.duration)).toBeLessThanOrEqual(1);
  });

  test('a restarted remuxer: its first segment replaces the earlier run’s, after a discontinuity, the media sequence going on', async () => {
    const { fanout, run, playlist, files, settled } = await setup();
    const first = run(steady);
    first.frames(0, 91);
    fanout.end({ streamId: first.streamId }); // the open segment (frame 90) is complete too
    const second = run(steady, { restart: true });
    second.frames(0, 31);
    await settled();
    const list = await playlist();
    expect(list.segments.map((s) => s.uri)).toEqual([segmentName(second.streamId, 4)]);
    expect(list.segments[0]!.discontinuity).toBe(true);
    expect(list.segments[0]!.map?.uri).toBe(initName(second.streamId));
    expect(list.mediaSequenceBase).toBe(4);
    await waitFor('the earlier run’s files removed', async () =>
      (await files()).every((name) => !name.startsWith(first.streamId)),
    );
  });

  test('segments leave the playlist and then the disk; a clear removes our files and nothing else', async () => {
    const { dir, output, run, playlist, files, settled } = await setup(3);
    await writeFile(join(dir, 'notes.txt'), 'not ours');
    const { streamId, frames } = run(steady);
    // In bursts: 150 frames waiting for a busy output are more than the fan-out lets wait.
    frames(0, 90);
    await settled();
    frames(90, 180);
    await settled();
    const list = await playlist();
    expect(list.mediaSequenceBase).toBe(2);
    expect(list.segments.map((s) => s.uri)).toEqual([2, 3, 4].map((n) => segmentName(streamId, n)));
    // Three listed, and the ones before them still there for a player that just read an older playlist.
    expect(await files()).toEqual(
      [
        ...[0, 1, 2, 3, 4].map((n) => segmentName(streamId, n)),
        initName(streamId),
        'notes.txt',
        'stream.m3u8',
      ].sort(),
    );
    await output.clear();
    expect(await files()).toEqual(['notes.txt']);
  });
});

describe('renderPlainPlaylist', () => {
  const segment = (msn: number, init: string, discontinuity = false) => ({
    name: `${init}-${msn}.m4s`,
    msn,
    duration: 1.0333,
    init: `${init}-init.mp4`,
    discontinuity,
    programDateTime: Date.UTC(2026, 0, 1, 0, 0, msn),
  });

  test('EXT-X-MAP where the run changes, after EXT-X-DISCONTINUITY; the sequences as given', () => {
    const text = renderPlainPlaylist({
      targetDuration: 1,
      discontinuitySequence: 2,
      segments: [segment(7, 'a'), segment(8, 'b', true)],
    });
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-TARGETDURATION:1',
        '#EXT-X-MEDIA-SEQUENCE:7',
        '#EXT-X-DISCONTINUITY-SEQUENCE:2',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MAP:URI="a-init.mp4"',
        '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:07.000Z',
        '#EXTINF:1.033300,',
        'a-7.m4s',
        '#EXT-X-DISCONTINUITY',
        '#EXT-X-MAP:URI="b-init.mp4"',
        '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:08.000Z',
        '#EXTINF:1.033300,',
        'b-8.m4s',
        '',
      ].join('\n'),
    );
    parseMediaPlaylist(text); // and hls-parser has nothing to say about it
  });

  test('no EXT-X-DISCONTINUITY-SEQUENCE while it is 0; the target duration covers the longest segment', () => {
    const text = renderPlainPlaylist({
      targetDuration: 1,
      discontinuitySequence: 0,
      segments: [{ ...segment(0, 'a'), duration: 2.6 }],
    });
    expect(text).not.toContain('DISCONTINUITY');
    expect(text).toContain('#EXT-X-TARGETDURATION:3\n');
  });
});
