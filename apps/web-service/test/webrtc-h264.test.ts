/**
 * The WebRTC output's H.264 path, from real fMP4 (ffmpeg, as the remuxer writes it) to RFC 6184
 * payloads, judged from outside: werift's depacketizer gets the NAL units back, ffprobe decodes
 * the Annex B stream they make, and each payload is held to the RFC's header rules.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { Fmp4FormatError, Fmp4Reader, type Fragment, type InitSegment } from '../src/ingest/fmp4.js';
import { frameNalUnits, NAL, nalType, parseAvcConfig, parseAvcC } from '../src/outputs/webrtc/avc.js';
import { MAX_FRAME_JUMP } from '../src/outputs/webrtc/output.js';
import { RtpClock } from '../src/outputs/webrtc/rtp-clock.js';
import { keyframeUnits, packetizeAccessUnit, stapA } from '../src/outputs/webrtc/rtp-h264.js';
import { tempDir, useCleanup } from '../../../test/helpers/cleanup.js';
import { ffprobeJson } from '../../../test/helpers/ffprobe.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { depacketise } from './helpers/h264-rtp.js';
import { encodeFmp4, remuxWithHole } from './helpers/fmp4-media.js';

const ready = haveTools('ffmpeg', 'ffprobe');
const START_CODE = Buffer.from([0, 0, 0, 1]);

describe.runIf(ready)('H.264 out of the remuxer’s fMP4', () => {
  const cleanup = useCleanup();
  let init: InitSegment;
  const fragments: Fragment[] = [];
  beforeAll(async () => {
    const data = await encodeFmp4({ seconds: 2, fps: 30, gop: 30 });
    const reader = new Fmp4Reader({ onInit: (i) => (init = i), onFragment: (f) => fragments.push(f) });
    reader.push(data);
  });

  test('avcC: SPS and PPS, 4-byte lengths, the profile as SDP writes it', () => {
    const avc = parseAvcConfig(init.bytes);
    expect(avc.sps.map(nalType)).toEqual([NAL.sps]);
    expect(avc.pps.map(nalType)).toEqual([NAL.pps]);
    expect(avc.lengthSize).toBe(4);
    // x264 ultrafast: constrained baseline (profile_idc 66), 320x240 at 30 fps: some level.
    expect(avc.profileLevelId).toMatch(/^42c0[0-9a-f]{2}$/);
  });

  test('each frame’s NAL units, with the SPS and PPS ahead, make a stream ffprobe decodes whole', async () => {
    const avc = parseAvcConfig(init.bytes);
    const units: Buffer[] = [];
    for (const fragment of fragments) {
      const nals = frameNalUnits(fragment.bytes, avc.lengthSize);
      expect(nals.length).toBeGreaterThan(0);
      // The frame's slices: an IDR exactly on keyframes.
      expect(nals.some((nal) => nalType(nal) === NAL.idr)).toBe(fragment.keyframe);
      const sent = fragment.keyframe ? keyframeUnits(nals, avc) : { parameterSets: [], units: nals };
      // Through RTP and back, as a receiver sees it.
      const payloads = packetizeAccessUnit(sent.units, { parameterSets: sent.parameterSets });
      units.push(...depacketise(payloads.map((p) => p.payload)));
    }
    const file = join(await tempDir(cleanup, 'camstream-h264-'), 'stream.h264');
    await writeFile(file, Buffer.concat(units.flatMap((nal) => [START_CODE, nal])));
    const { streams } = await ffprobeJson(file, [
      ...['-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=nb_read_frames,codec_name'],
    ]);
    expect(streams?.[0]).toEqual({ codec_name: 'h264', nb_read_frames: String(fragments.length) });
  });

  test('a keyframe goes out as STAP-A(SPS, PPS), then its slices in FU-A within the MTU, marker last', () => {
    const avc = parseAvcConfig(init.bytes);
    const keyframe = fragments.find((f) => f.keyframe)!;
    const { parameterSets, units } = keyframeUnits(frameNalUnits(keyframe.bytes, avc.lengthSize), avc);
    const payloads = packetizeAccessUnit(units, { parameterSets, maxPayload: 1200 });
    expect(payloads.length).toBeGreaterThan(3); // a 320x240 IDR at 1 Mbps is several kB
    const [first, ...rest] = payloads;
    expect(first!.payload[0]! & 0x1f).toBe(24); // STAP-A
    expect(depacketise([first!.payload]).map(nalType)).toEqual([NAL.sps, NAL.pps]);
    for (const { payload } of payloads) expect(payload.length).toBeLessThanOrEqual(1200);
    expect(payloads.map((p) => p.marker)).toEqual([...payloads.slice(1).map(() => false), true]);
    // The IDR slices' fragments (x264 may cut a frame into several slices): each unit's run of
    // FU-As opens with S and closes with E, the IDR's type in each FU header.
    const fus = rest.filter(({ payload }) => (payload[0]! & 0x1f) === 28);
    expect(fus.length).toBeGreaterThan(1);
    expect(fus.map(({ payload }) => payload[1]! & 0x1f)).toEqual(fus.map(() => NAL.idr));
    let open = false;
    for (const { payload } of fus) {
      const start = (payload[1]! & 0x80) !== 0;
      const end = (payload[1]! & 0x40) !== 0;
      expect(start).toBe(!open);
      open = !end;
    }
    expect(open).toBe(false);
  });

  test('frames on the 90 kHz clock: 3000 ticks apart at 30 fps, whatever the timescale', () => {
    const clock = new RtpClock();
    clock.run(init.timescale);
    const times = fragments.slice(0, 10).map((f) => clock.at(f.decodeTime, f.duration));
    expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(Array(9).fill(3000));
  });
});

describe('RFC 6184 payloads, whatever the units', () => {
  const nalArb = fc
    .tuple(
      fc.integer({ min: 1, max: 23 }),
      fc.integer({ min: 0, max: 3 }),
      fc.uint8Array({ maxLength: 5000 }),
    )
    .map(([type, nri, body]) => Buffer.concat([Buffer.from([(nri << 5) | type]), Buffer.from(body)]));

  test('werift’s depacketizer gets back every unit but AUDs and filler; sizes within the limit; one marker, last', () => {
    fc.assert(
      fc.property(
        fc.array(nalArb, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 3, max: 1500 }),
        (nals, maxPayload) => {
          const payloads = packetizeAccessUnit(nals, { maxPayload });
          for (const { payload } of payloads) expect(payload.length).toBeLessThanOrEqual(maxPayload);
          expect(payloads.filter((p) => p.marker)).toEqual(payloads.slice(-1));
          const kept = nals.filter((nal) => nalType(nal) !== NAL.aud && nalType(nal) !== NAL.filler);
          // werift rebuilds a fragmented unit's header with F = 0; our units have F = 0 anyway.
          expect(depacketise(payloads.map((p) => p.payload))).toEqual(kept);
        },
      ),
      { seed: 6184, numRuns: 200 },
    );
  });

  test('STAP-A: F is the OR, NRI the highest of its units (5.7.1)', () => {
    const sps = Buffer.from([0x67, 1, 2]);
    const pps = Buffer.from([0x28 | 0x80, 3]);
    expect([...stapA([sps, pps])]).toEqual([0x80 | 0x60 | 24, 0, 3, 0x67, 1, 2, 0, 2, 0xa8, 3]);
  });

  test('parameter sets too big to aggregate go alone (FU-A if need be)', () => {
    const sps = Buffer.concat([Buffer.from([0x67]), Buffer.alloc(40, 1)]);
    const pps = Buffer.from([0x68, 2]);
    const payloads = packetizeAccessUnit([Buffer.from([0x65, 9])], {
      parameterSets: [sps, pps],
      maxPayload: 30,
    });
    expect(depacketise(payloads.map((p) => p.payload)).map(nalType)).toEqual([NAL.sps, NAL.pps, NAL.idr]);
    expect(payloads[0]!.payload[0]! & 0x1f).toBe(28);
  });

  test('a keyframe’s own SPS and PPS are the ones sent ahead of it', () => {
    const own = [Buffer.from([0x67, 7]), Buffer.from([0x68, 8])];
    const idr = Buffer.from([0x65, 1]);
    const init = { sps: [Buffer.from([0x67, 1])], pps: [Buffer.from([0x68, 1])] };
    expect(keyframeUnits([Buffer.from([0x09, 0x10]), ...own, idr], init)).toEqual({
      parameterSets: own,
      units: [Buffer.from([0x09, 0x10]), idr],
    });
    expect(keyframeUnits([idr], init)).toEqual({ parameterSets: [...init.sps, ...init.pps], units: [idr] });
  });
});

describe('the 90 kHz clock across runs', () => {
  test('a restarted run (timestamps from 0 again) continues after the last frame', () => {
    const clock = new RtpClock();
    clock.run(15360);
    expect(clock.at(1000 * 512, 512)).toBe(0);
    expect(clock.at(1001 * 512, 512)).toBe(3000);
    clock.run(90_000);
    expect(clock.at(0, 3000)).toBe(6000);
    expect(clock.at(3000, 0)).toBe(9000);
  });
});

describe.runIf(ready)('the 90 kHz clock at a cut', () => {
  test('the frame before a hole spans it (the remuxer’s duration); `expected` goes by the pace and tells the frame after the hole is late', async () => {
    const fragments: Fragment[] = [];
    let timescale = 0;
    new Fmp4Reader({ onInit: (i) => (timescale = i.timescale), onFragment: (f) => fragments.push(f) }).push(
      await remuxWithHole({ seconds: 3, fps: 30, gop: 30, hole: [0.4, 0.7] }),
    );
    const clock = new RtpClock();
    clock.run(timescale);
    const times = fragments.map((f) => clock.at(f.decodeTime, f.duration));
    const steps = times.slice(1).map((t, i) => t - times[i]!);
    const hole = steps.findIndex((step) => step !== 3000);
    expect(hole).toBeGreaterThan(0);
    expect(steps[hole]).toBeGreaterThan(MAX_FRAME_JUMP);
    expect(steps.slice(hole + 1).every((step) => step === 3000)).toBe(true);
    // The fragment before the hole lasts until the next frame the remuxer got: its end hides the cut.
    const before = fragments[hole]!;
    expect(Math.round((before.duration * 90_000) / timescale)).toBe(steps[hole]);

    const again = new RtpClock();
    again.run(timescale);
    for (const f of fragments.slice(0, hole + 1)) again.at(f.decodeTime, f.duration);
    expect(again.next).toBe(times[hole + 1]);
    expect(again.expected).toBe(times[hole]! + 3000);
    expect(times[hole + 1]! - again.expected).toBeGreaterThan(MAX_FRAME_JUMP);
  });

  test('the run’s first frame is expected where the last run ended; its second, where the first ends', () => {
    const clock = new RtpClock();
    clock.run(90_000);
    expect(clock.expected).toBe(0);
    clock.at(0, 3000);
    expect(clock.expected).toBe(3000);
    clock.at(3000, 6000);
    expect([clock.expected, clock.next]).toEqual([6000, 9000]);
    clock.run(90_000);
    expect(clock.expected).toBe(9000);
    expect(clock.at(500, 3000)).toBe(9000);
  });
});

describe('bad input is an Fmp4FormatError', () => {
  test('avcC and mdat that overrun', () => {
    expect(() => parseAvcC(Buffer.from([1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 9, 0x67]))).toThrow(
      Fmp4FormatError,
    );
    expect(() => parseAvcC(Buffer.from([0]))).toThrow(Fmp4FormatError);
    const mdat = Buffer.from([0, 0, 0, 14, 0x6d, 0x64, 0x61, 0x74, 0, 0, 0, 9, 0x65, 1]);
    expect(() => frameNalUnits(mdat, 4)).toThrow(Fmp4FormatError);
    expect(() => frameNalUnits(Buffer.alloc(16), 4)).toThrow(Fmp4FormatError);
  });
});
