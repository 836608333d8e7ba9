/**
 * The recordings bench works: `npm run bench:recordings -- --smoke` records each camera (our agent,
 * and plain ffmpeg) for a few seconds between two phases not recording, writes report.md,
 * recordings.svg/.png and samples.json with sane figures, and leaves no temporary folder behind. No
 * timing assertions: the figures are the report's business.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { startsKeyframe } from '../bench/recordings/keyframe-tap.js';
import { parseArgs } from '../bench/recordings/options.js';
import { cameraFigures, phaseFigures } from '../bench/recordings/summary.js';
import type { RecordingsRun, Sample } from '../bench/recordings/types.js';
import { runBenchScript, smokeFolders } from './helpers/bench-process.js';
import { useCleanup } from './helpers/cleanup.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto', CHROMIUM_PATH);

describe('bench:recordings options and figures', () => {
  test('defaults, --smoke, --cameras; bad values refused', () => {
    expect(parseArgs([])).toMatchObject({ seconds: 60, downloads: 3, cameras: ['agent', 'foreign'] });
    expect(parseArgs(['--smoke'])).toMatchObject({ seconds: 8, warmupSec: 2, downloads: 1 });
    expect(parseArgs(['--cameras', 'foreign,agent']).cameras).toEqual(['agent', 'foreign']);
    expect(() => parseArgs(['--cameras', 'nginx'])).toThrow(/--cameras/);
    expect(() => parseArgs(['--seconds', '1'])).toThrow(/--seconds/);
    expect(() => parseArgs(['--frames'])).toThrow(/unknown argument/);
  });

  test('the keyframe tap: a PES start with random_access_indicator is a keyframe; without it, or mid-PES, not', () => {
    const packet = ({ start = true, rai = true } = {}) => {
      const p = Buffer.alloc(188, 0xff);
      p.set([0x47, (start ? 0x40 : 0) | 0x01, 0x00, 0x30, 7, rai ? 0x40 : 0x00]); // adaptation + payload
      p.set([0x00, 0x00, 0x01, 0xe0], 5 + 7); // PES start code, video stream
      return p;
    };
    const other = Buffer.alloc(188, 0xff);
    other.set([0x47, 0x01, 0x00, 0x10]); // payload only
    expect(startsKeyframe(Buffer.concat([other, packet()]))).toBe(true);
    expect(startsKeyframe(packet({ rai: false }))).toBe(false);
    expect(startsKeyframe(packet({ start: false }))).toBe(false);
    expect(startsKeyframe(other)).toBe(false);
  });

  test('CPU per phase from tick deltas within the phase; a boundary interval counts for neither', () => {
    const sample = (t: number, phase: Sample['phase'], ticks: number, rssKb = 102_400): Sample => ({
      t,
      phase,
      serviceTicks: ticks,
      serviceRssKb: rssKb,
      serviceWchar: t * 1000,
      diskBytes: 0,
    });
    const samples = [
      sample(0, 'off-before', 0),
      sample(1, 'off-before', 5),
      sample(1.001, 'on', 5, 204_800),
      sample(2, 'on', 15, 204_800),
      sample(3, 'on', 25, 204_800),
      sample(3.001, 'off-after', 1000), // a jump across the boundary: not counted
      sample(4, 'off-after', 1005),
    ];
    const off = phaseFigures(samples, ['off-before', 'off-after']);
    expect(off.serviceCpu).toBeCloseTo(5, 1); // 10 ticks in 2 s
    expect(off.serviceRssMiB).toBe(100);
    expect(off.serviceWritesPerSecond).toBeCloseTo(1000, 3);
    const on = phaseFigures(samples, ['on']);
    expect(on.serviceCpu).toBeCloseTo(10, 1); // 20 ticks in ~2 s
    expect(on.serviceRssMiB).toBe(200);
  });
});

describe.runIf(ready)('npm run bench:recordings (smoke)', () => {
  const cleanup = useCleanup();

  test('both cameras recorded, every figure measured, the report, plot and samples written', async () => {
    const { out, leftBehind } = await smokeFolders('recordings', cleanup);

    const { code, output } = await runBenchScript(
      'bench:recordings',
      ['--smoke', '--no-build', '--out', out],
      cleanup,
    );
    expect(code, output).toBe(0);
    expect(output).toMatch(/\[recordings\] agent: \d+ MB\/h/);
    expect(output).toMatch(/\[recordings\] foreign: \d+ MB\/h/);

    const run = JSON.parse(await readFile(join(out, 'samples.json'), 'utf8')) as RecordingsRun;
    expect(run.failure).toBeUndefined();
    expect(run.cameras.map((c) => c.camera)).toEqual(['agent', 'foreign']);
    for (const camera of run.cameras) {
      const f = cameraFigures(camera);
      const where = `${camera.camera}: ${JSON.stringify(f)}`;
      expect(f.errors, where).toEqual([]);
      // About 8 s recorded (from the keyframe after "record": true to "record": false).
      expect(f.recordedSeconds, where).toBeGreaterThan(6);
      expect(f.recordedSeconds, where).toBeLessThan(10);
      // The camera sends about 2 Mbit/s: between 50 kB/s and 1 MB/s written, whatever the picture.
      expect(f.bytesPerSecond, where).toBeGreaterThan(50_000);
      expect(f.bytesPerSecond, where).toBeLessThan(1_000_000);
      expect(f.mbPerHour, where).toBeCloseTo((f.bytesPerSecond * 3600) / 1e6, 6);
      // playlist, init-0.mp4 and a segment per ~4 s.
      expect(f.files, where).toBeGreaterThanOrEqual(4);
      for (const phase of [f.off, f.on]) {
        expect(phase.seconds, where).toBeGreaterThan(3);
        expect(phase.serviceCpu, where).toBeGreaterThan(0);
        expect(phase.serviceCpu!, where).toBeLessThan(400);
        expect(phase.serviceRssMiB, where).toBeGreaterThan(20);
        expect(phase.remuxerCpu, where).toBeGreaterThan(0);
      }
      // At least one segment closed by a keyframe, seen reaching the disk after it closed.
      expect(f.onDisk.count, where).toBeGreaterThanOrEqual(1);
      expect(f.onDisk.medianMs!, where).toBeGreaterThan(0);
      expect(f.onDisk.medianMs!, where).toBeLessThan(5000);
      expect(f.download.count).toBe(1);
      expect(f.download.medianMs, where).toBeGreaterThan(0);
      expect(f.download.bytes!, where).toBeGreaterThan(f.bytes * 0.8);
      expect(f.mp4Seconds!, where).toBeCloseTo(f.recordedSeconds, 0);
    }

    const report = await readFile(join(out, 'report.md'), 'utf8');
    expect(report).toContain('## Summary');
    expect(report).toMatch(/\*\*our agent \(test source\): [\d,]+ MB per hour of recording\*\*/);
    expect(report).toMatch(/\*\*foreign camera \(plain ffmpeg\): [\d,]+ MB per hour of recording\*\*/);
    expect(report).toContain('|  | our agent (test source) | foreign camera (plain ffmpeg) |');
    expect(report).toMatch(/\| service \(Node\) CPU, recording on \| [\d.]+ % \| [\d.]+ % \|/);
    expect(report).not.toContain('NaN');
    const svg = await readFile(join(out, 'recordings.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg.match(/<polyline /g)?.length).toBe(6); // three panels, two cameras
    expect(svg).not.toContain('NaN');
    expect((await stat(join(out, 'recordings.png'))).size).toBeGreaterThan(1000);

    const left = await leftBehind();
    expect(left, 'temporary folders left behind').toEqual([]);
  }, 180_000);
});
