/**
 * The many-cameras bench works: `npm run bench:cameras` with 2 cameras, one start round and a 4 s
 * window runs Mosquitto, the service and two cameras that are not ours, measures both steps (1 and
 * 2 cameras), writes report.md, cameras.svg/.png and samples.json with sane figures, and leaves no
 * process and no temporary folder behind. No timing assertions: the figures are the report's business.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseArgs } from '../bench/cameras/options.js';
import { groupSteps, stepFigures } from '../bench/cameras/summary.js';
import { SERVICE, segmenterRole, type CamerasRun, type StepRun } from '../bench/cameras/types.js';
import { runBenchScript, smokeFolders } from './helpers/bench-process.js';
import { useCleanup } from './helpers/cleanup.js';
import { processesWithEnv } from './helpers/processes.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';

const ready = haveTools('ffmpeg', 'mosquitto', CHROMIUM_PATH);

describe('bench:cameras options', () => {
  test('steps: 1, the middle and N by default; 1 and N always; bad values refused', () => {
    expect(parseArgs([]).steps).toEqual([1, 5, 10]);
    expect(parseArgs(['--cameras', '2']).steps).toEqual([1, 2]);
    expect(parseArgs(['--cameras', '8', '--steps', '4']).steps).toEqual([1, 4, 8]);
    expect(parseArgs(['--out', '/x']).latest).toBe(false);
    expect(() => parseArgs(['--cameras', '4', '--steps', '6'])).toThrow(/--steps/);
    expect(() => parseArgs(['--steps', '0'])).toThrow(/--steps/);
    expect(() => parseArgs(['--frames'])).toThrow(/unknown argument/);
  });
});

describe('bench:cameras figures', () => {
  const step = (cameras: number, ms: number[], cpu: number[], extra: Partial<StepRun> = {}): StepRun => ({
    cameras,
    cameraIds: Array.from({ length: cameras }, (_, i) => `cam${i + 1}`),
    idle: { [SERVICE]: { cpuPercent: [1], rssMiB: [100] } },
    starts: ms.map((v, i) => ({
      cameraId: 'cam1',
      mode: 'alone',
      round: i + 1,
      at: 0,
      ms: v,
      cameraMs: v / 2,
      ok: true,
    })),
    stops: [],
    window: { durationSec: 10, resources: { [SERVICE]: { cpuPercent: cpu, rssMiB: [120, 130, 140] } } },
    playlists: [{ cameraId: 'cam1', advances: 50, errors: 0, longestGapMs: 250, errorMessages: [] }],
    privateMiB: { [SERVICE]: 80 },
    segmenterStarts: {},
    segmenterRestartsInWindow: 0,
    notLiveAtEnd: [],
    errors: [],
    load1: 1,
    ...extra,
  });

  test('medians, per camera; repeated runs merged; the baseline apart; a failed start counted', () => {
    const runs = [
      step(1, [400, 500], [2, 4, 100], { baseline: true }),
      step(1, [300, 600], [3, 5, 4]),
      step(1, [350], [1, 9, 3]),
      step(2, [700], [8, 8, 8], {
        starts: [{ cameraId: 'cam2', mode: 'together', round: 1, at: 0, ms: 9000, ok: false, error: '504' }],
        errors: ['start of cam2 (together, round 1): 504'],
      }),
    ];
    const { ours, baseline } = groupSteps(runs);
    expect(ours.map((s) => s.cameras)).toEqual([1, 2]);
    const one = stepFigures(ours[0]!);
    expect(one.alone.median).toBe(350); // of 300, 600, 350: the two runs' starts together
    expect(one.alone.serviceMedian).toBe(175);
    expect(one.serviceCpu).toBe(3.5); // of 3, 5, 4, 1, 9, 3
    expect(one.partsPerSecond).toBe(5); // 100 parts in 20 s
    expect(stepFigures(baseline!).serviceCpu).toBe(4); // the median shrugs off the outlier
    const two = stepFigures(ours[1]!);
    expect(two.serviceCpuPerCamera).toBe(4);
    expect(two.serviceRssPerCamera).toBe(65);
    expect(two.together.failed).toBe(1);
    expect(two.errors).toMatchObject({ starts: 1, other: 0, total: 1 });
  });
});

describe.runIf(ready)('npm run bench:cameras (smoke)', () => {
  const cleanup = useCleanup();

  test('two steps, every start live, every playlist advancing, the report, plot and samples written', async () => {
    const { out, leftBehind } = await smokeFolders('cameras', cleanup);

    const { code, output } = await runBenchScript(
      'bench:cameras',
      ['--cameras', '2', '--duration', '4', '--rounds', '1', '--no-build', '--out', out],
      cleanup,
    );
    expect(code, output).toBe(0);
    expect(output).toMatch(/\[cameras\] 2 camera\(s\): service [\d.]+ % CPU, [\d.]+ MiB/);

    const run = JSON.parse(await readFile(join(out, 'samples.json'), 'utf8')) as CamerasRun;
    expect(run.failure).toBeUndefined();
    expect(run.steps.map((s) => s.cameras)).toEqual([1, 2]);
    for (const step of run.steps) {
      const where = `${step.cameras} camera(s)`;
      // One round: each camera once one at a time and once together, each answered 200 live.
      expect(step.starts, where).toHaveLength(2 * step.cameras);
      for (const start of step.starts) {
        expect(start.ok, `${where}: ${start.cameraId} ${start.mode}: ${start.error}`).toBe(true);
        expect(start.ms).toBeGreaterThan(0);
        expect(start.ms).toBeLessThan(20_000);
        // Split at the camera's first frame: the camera's part comes first, the service's after it.
        expect(start.cameraMs, `${where}: ${start.cameraId}: its streaming status`).toBeGreaterThan(0);
        expect(start.cameraMs!).toBeLessThan(start.ms);
      }
      expect(step.errors, where).toEqual([]);
      expect(step.notLiveAtEnd, where).toEqual([]);
      // Every camera had its own segmenter, sampled, and its playlist went on part by part.
      const service = step.window.resources[SERVICE]!;
      expect(service.rssMiB.length, where).toBeGreaterThanOrEqual(3);
      expect(Math.min(...service.rssMiB)).toBeGreaterThan(20);
      expect(Math.max(...service.rssMiB)).toBeLessThan(4096);
      expect(service.cpuPercent.every((v) => v >= 0 && v < 400)).toBe(true);
      for (const id of step.cameraIds) {
        const segmenter = step.window.resources[segmenterRole(id)]!;
        expect(segmenter.rssMiB.length, `${where}: ${id}'s segmenter sampled`).toBeGreaterThanOrEqual(3);
        expect(Math.min(...segmenter.rssMiB)).toBeGreaterThan(1);
        expect(step.privateMiB[segmenterRole(id)], `${id}: private memory`).toBeGreaterThan(0);
        const check = step.playlists.find((p) => p.cameraId === id)!;
        // 4 s of parts of about 0.2 s: well over 5 even on a busy machine.
        expect(check.advances, `${where}: ${id}'s parts`).toBeGreaterThan(5);
        expect(check.errors, `${where}: ${id}: ${check.errorMessages.join('; ')}`).toBe(0);
      }
      const figures = stepFigures(step);
      expect(figures.errors.total).toBe(0);
      expect(figures.alone.median).toBeGreaterThan(0);
      expect(figures.together.median).toBeGreaterThan(0);
      expect(figures.alone.serviceMedian).toBeGreaterThan(0);
      expect(figures.serviceRss).toBeGreaterThan(20);
      expect(figures.segmenterRssPerCamera).toBeGreaterThan(1);
    }
    // Two cameras' segmenters are two processes: their RSS adds up.
    const [one, two] = run.steps.map(stepFigures);
    expect(two!.segmentersRss!).toBeGreaterThan(one!.segmentersRss! * 1.5);

    const report = await readFile(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/\*\*2 cameras on one service\*\*: its CPU [\d.]+ % of one core/);
    expect(report).toContain('|  | 1 camera | 2 cameras |');
    expect(report).toMatch(/\| service RSS \| [\d.]+ MiB \| [\d.]+ MiB \|/);
    expect(report).toContain('## Against one camera');
    expect(report).toContain('**shared**');
    expect(report).toContain('| cam2 |');
    const svg = await readFile(join(out, 'cameras.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg.match(/<polyline /g)?.length).toBe(11);
    expect(svg).not.toContain('NaN');
    expect((await stat(join(out, 'cameras.png'))).size).toBeGreaterThan(1000);

    // Nothing left: its temporary folder, and no process of the run (each has it as its TMPDIR).
    const left = await leftBehind();
    expect(left, 'temporary folders left behind').toEqual([]);
    const temp = /\[cameras\] temporary folder (\S+)/.exec(output)?.[1];
    expect(temp, 'the run names its temporary folder').toBeDefined();
    expect(await processesWithEnv(`TMPDIR=${temp}`), 'processes left behind').toEqual([]);
  }, 120_000);
});
