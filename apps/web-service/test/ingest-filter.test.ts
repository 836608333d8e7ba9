/**
 * The ingest's filter (src/ingest/ts-filter.ts) on a camera's stream made up in memory
 * (helpers/ts-stream.ts), with an injected clock: what it passes, what it holds, what it drops.
 * The real thing (dgram, ffmpeg, garbage from fast-check) is in test/bad-input/udp.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readHeader, readPat } from '../src/ingest/mpegts.js';
import { CONFIRM_FRAMES, TAKEOVER_QUIET_MS, TsFilter } from '../src/ingest/ts-filter.js';
import { FakeCamera, framePackets, PAT, PMT, PMT_PID, pidsOf, VIDEO_PID } from './helpers/ts-stream.js';

const CAMERA = '10.0.0.2:5000';
const OTHER = '10.0.0.9:40000';

function setup() {
  let now = 1_000_000;
  const chunks: Buffer[] = [];
  const timelines: string[] = [];
  const filter = new TsFilter({
    now: () => now,
    onTimeline: ({ sender, change }) => timelines.push(`${change} ${sender}`),
  });
  filter.setSink((chunk) => chunks.push(chunk));
  /** Sends `count` frames of `camera` from `sender`, a frame interval apart. */
  const play = (camera: FakeCamera, count: number, sender = CAMERA) => {
    for (let i = 0; i < count; i++) {
      for (const datagram of camera.frame().datagrams) filter.push(datagram, sender);
      now += camera.frameMs;
    }
  };
  return { filter, chunks, timelines, play, advance: (ms: number) => (now += ms) };
}

const bytes = (chunks: Buffer[]) => chunks.reduce((sum, c) => sum + c.length, 0);

describe('TsFilter', () => {
  test('ffmpeg’s PAT (CRC 2ab104b2) names its PMT', () => {
    const pat = Buffer.alloc(188, 0xff);
    Buffer.from('474000100000b00d0001c100000001f0002ab104b2', 'hex').copy(pat);
    expect(readPat(pat, readHeader(pat, 0)!)).toBe(PMT_PID);
    pat[20] = pat[20]! ^ 1; // a CRC that does not match
    expect(readPat(pat, readHeader(pat, 0)!)).toBeUndefined();
  });

  test('holds the keyframe until the stream continues, then passes PAT, PMT, keyframe and all after it', () => {
    const { filter, chunks, timelines, play } = setup();
    const camera = new FakeCamera();
    play(camera, CONFIRM_FRAMES - 1);
    expect(chunks).toEqual([]);
    play(camera, 1);
    expect(timelines).toEqual([`first ${CAMERA}`]);
    const pids = pidsOf(chunks);
    expect(pids.slice(0, 3)).toEqual([0, PMT_PID, VIDEO_PID]);
    play(camera, 60);
    // Every packet of every frame, in order, one chunk per datagram once accepted.
    const reference = new FakeCamera();
    const all = Array.from({ length: 60 + CONFIRM_FRAMES }, () => reference.frame().datagrams).flat();
    expect(Buffer.concat(chunks)).toEqual(Buffer.concat(all));
    expect(filter.stats().packetsDropped).toMatchObject({ timeline: 0, 'other-sender': 0, 'bad-pes': 0 });
  });

  test('joins a running stream at its next keyframe: nothing passed before it', () => {
    const { filter, chunks, play } = setup();
    const camera = new FakeCamera();
    camera.frame(); // the first keyframe went before the service listened
    play(camera, 29);
    expect(chunks).toEqual([]);
    expect(filter.stats().packetsDropped['before-keyframe']).toBeGreaterThan(0);
    play(camera, CONFIRM_FRAMES);
    expect(pidsOf(chunks).slice(0, 3)).toEqual([0, PMT_PID, VIDEO_PID]);
  });

  test('a segmenter attached to a running stream gets nothing until a keyframe, PAT and PMT first', () => {
    const { filter, chunks, play } = setup();
    const camera = new FakeCamera();
    play(camera, 10);
    const later: Buffer[] = [];
    filter.setSink((chunk) => later.push(chunk));
    play(camera, 19);
    expect(later).toEqual([]);
    play(camera, 2);
    expect(pidsOf(later).slice(0, 3)).toEqual([0, PMT_PID, VIDEO_PID]);
    expect(chunks.length).toBeGreaterThan(0);
  });

  test('drops datagrams that are not whole TS packets, and PSI with a wrong CRC', () => {
    const { filter, chunks, play } = setup();
    for (const size of [0, 1, 187, 189, 1316 + 1]) filter.push(Buffer.alloc(size, 0x47), OTHER);
    const unsynced = Buffer.concat([PAT, PMT]);
    unsynced[188] = 0x48;
    filter.push(unsynced, CAMERA);
    const badPat = Buffer.from(PAT);
    badPat[10] = badPat[10]! ^ 0xff;
    filter.push(badPat, CAMERA);
    expect(filter.stats().datagramsDropped['not-ts']).toBe(6);
    expect(filter.stats().packetsDropped['bad-psi']).toBe(1);
    play(new FakeCamera(), CONFIRM_FRAMES);
    expect(chunks.length).toBeGreaterThan(0);
  });

  test('another sender’s packets are dropped while the camera’s stream is accepted, whatever they hold', () => {
    const { filter, chunks, play } = setup();
    const camera = new FakeCamera();
    const intruder = new FakeCamera({ dts: 123_456_789 });
    for (let i = 0; i < 60; i++) {
      play(camera, 1);
      for (const datagram of intruder.frame().datagrams) filter.push(datagram, OTHER);
    }
    const reference = new FakeCamera();
    const all = Array.from({ length: 60 }, () => reference.frame().datagrams).flat();
    expect(Buffer.concat(chunks)).toEqual(Buffer.concat(all));
    expect(filter.stats().packetsDropped['other-sender']).toBeGreaterThan(0);
  });

  test('on the camera’s own sender: a PES whose DTS jumps, or whose PTS is 13 h after its DTS, is dropped with the rest of it', () => {
    const { filter, chunks, play } = setup();
    const camera = new FakeCamera();
    play(camera, 10);
    const before = bytes(chunks);
    let counter = 0;
    const next = () => counter++ & 0xf;
    for (const packet of framePackets(5_000_000_000, false, next)) filter.push(packet, CAMERA);
    for (const packet of framePackets(900_000, false, next, 900_000 + 2 ** 32)) filter.push(packet, CAMERA);
    for (const packet of framePackets(100, false, next)) filter.push(packet, CAMERA); // backwards
    expect(bytes(chunks)).toBe(before);
    expect(filter.stats().packetsDropped.timeline).toBe(9);
    play(camera, 1);
    expect(bytes(chunks)).toBeGreaterThan(before);
  });

  test('a frame late by seconds (a network cut) continues the timeline; one far ahead of the clock does not', () => {
    const { filter, chunks, play, advance } = setup();
    const camera = new FakeCamera();
    play(camera, 10);
    // Five seconds without video: the camera's frames in between are lost, its clock went on.
    for (let i = 0; i < 150; i++) camera.frame();
    advance(5000);
    const before = bytes(chunks);
    play(camera, 1);
    expect(bytes(chunks)).toBeGreaterThan(before);
    expect(filter.stats().packetsDropped.timeline).toBe(0);
    // Five seconds of timestamps in no time at all: not the camera's.
    for (let i = 0; i < 150; i++) camera.frame();
    const atJump = bytes(chunks);
    play(camera, 1);
    expect(bytes(chunks)).toBe(atJump);
  });

  test('an encoder restart (a new sender, a new timeline from a keyframe) is accepted after CONFIRM_FRAMES frames', () => {
    const { chunks, timelines, play, advance } = setup();
    play(new FakeCamera(), 45);
    advance(TAKEOVER_QUIET_MS); // the old encoder stopped; the new one starts
    const before = bytes(chunks);
    const restarted = new FakeCamera({ dts: 0 });
    play(restarted, CONFIRM_FRAMES - 1, OTHER);
    expect(bytes(chunks)).toBe(before);
    play(restarted, 1, OTHER);
    expect(timelines).toEqual([`first ${CAMERA}`, `sender ${OTHER}`]);
    expect(pidsOf([Buffer.concat(chunks).subarray(before)]).slice(0, 3)).toEqual([0, PMT_PID, VIDEO_PID]);
  });

  test('the same sender starting a new timeline at a keyframe is accepted; without a keyframe it is not', () => {
    const { chunks, timelines, play } = setup();
    play(new FakeCamera(), 40);
    const videoPackets = () => pidsOf(chunks).filter((pid) => pid === VIDEO_PID).length;
    const before = videoPackets();
    const midGop = new FakeCamera({ dts: 50 });
    midGop.frame();
    play(midGop, 20);
    expect(videoPackets()).toBe(before); // its PAT and PMT pass: they are the same

    play(new FakeCamera({ dts: 50 }), CONFIRM_FRAMES);
    expect(timelines).toEqual([`first ${CAMERA}`, `restart ${CAMERA}`]);
    expect(videoPackets()).toBeGreaterThan(before);
  });

  test('the same sender’s keyframe after a pause (our agent restarting its encoder) is accepted at once', () => {
    const { chunks, timelines, play, advance } = setup();
    play(new FakeCamera(), 40);
    advance(TAKEOVER_QUIET_MS);
    const before = bytes(chunks);
    play(new FakeCamera({ dts: 50 }), 1);
    expect(timelines).toEqual([`first ${CAMERA}`, `restart ${CAMERA}`]);
    // Its PAT and PMT (passed as they came, and again before the keyframe), and the whole keyframe.
    const pids = pidsOf([Buffer.concat(chunks).subarray(before)]);
    const keyframe = framePackets(50, true, () => 0);
    expect(pids.filter((pid) => pid === VIDEO_PID)).toHaveLength(keyframe.length);
  });

  test('a second stream while the accepted one still sends does not take over', () => {
    const { filter, chunks, timelines, play } = setup();
    const camera = new FakeCamera();
    const other = new FakeCamera({ dts: 7_000_000 });
    play(camera, 3);
    for (let i = 0; i < 90; i++) {
      play(camera, 1);
      for (const datagram of other.frame().datagrams) filter.push(datagram, OTHER);
    }
    expect(timelines).toEqual([`first ${CAMERA}`]);
    const reference = new FakeCamera();
    const all = Array.from({ length: 93 }, () => reference.frame().datagrams).flat();
    expect(Buffer.concat(chunks)).toEqual(Buffer.concat(all));
  });

  test('property: garbage datagrams from another sender, before and between the camera’s, change nothing it passes', () => {
    const garbage = fc.array(
      fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 1400 }).map((a) => Buffer.from(a)),
        // TS-looking: sync bytes every 188, random PIDs (PAT, PMT and video among them) and payloads.
        fc
          .array(
            fc.tuple(
              fc.constantFrom(0, PMT_PID, VIDEO_PID, 0x11, 0x1fff),
              fc.boolean(),
              fc.uint8Array({ minLength: 184, maxLength: 184 }),
            ),
            { minLength: 1, maxLength: 7 },
          )
          .map((packets) =>
            Buffer.concat(
              packets.map(([pid, start, payload]) =>
                Buffer.concat([
                  Buffer.from([0x47, (start ? 0x40 : 0) | (pid >> 8), pid & 0xff, 0x10]),
                  payload,
                ]),
              ),
            ),
          ),
        // A real stream's packets, replayed from elsewhere.
        fc
          .integer({ min: 0, max: 2 ** 33 - 1 })
          .map((dts) => Buffer.concat(new FakeCamera({ dts }).frame().datagrams)),
      ),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(garbage, fc.integer({ min: 1, max: 5 }), (datagrams, every) => {
        const { filter, chunks, play } = setup();
        const camera = new FakeCamera();
        let next = 0;
        for (const datagram of datagrams.slice(0, 10)) filter.push(datagram, OTHER);
        for (let frame = 0; frame < 40; frame++) {
          play(camera, 1);
          if (frame % every === 0 && next < datagrams.length) filter.push(datagrams[next++]!, OTHER);
        }
        const reference = new FakeCamera();
        const all = Array.from({ length: 40 }, () => reference.frame().datagrams).flat();
        expect(Buffer.concat(chunks).equals(Buffer.concat(all))).toBe(true);
      }),
      { seed: 20261204, numRuns: 100 },
    );
  });
});
