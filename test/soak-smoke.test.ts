/**
 * The soak's instrument works: `npm run bench:soak` with a tiny window (20 s, a sample every 2 s)
 * runs the service, the agent and one viewer, samples every series, judges each, writes its report
 * and plot, and leaves its temporary folder behind it removed. No timing assertions: whether
 * anything stays flat is the report's business (and 20 s says little about it), not a test's.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { judgeAll, SERIES, TOLERANCES } from '../bench/soak/series.js';
import { judge, theilSen } from '../bench/soak/trend.js';
import type { SoakRun } from '../bench/soak/types.js';
import { runBenchScript, smokeFolders } from './helpers/bench-process.js';
import { useCleanup } from './helpers/cleanup.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';

const ready = haveTools('ffmpeg', CHROMIUM_PATH);

// The verdict rule itself, pure: no tools needed.
describe('the soak’s verdict rule', () => {
  const series = (f: (x: number) => number) =>
    Array.from({ length: 60 }, (_, i) => ({ x: i * 5, y: f(i * 5) }));
  // A sawtooth of ±3 MiB, as garbage collection draws it.
  const sawtooth = (x: number) => 100 + ((x / 5) % 4) * 2 - 3;

  test('Theil–Sen finds the slope through outliers', () => {
    const points = series((x) => 2 * x + 1);
    points[10]!.y = 1e6;
    points[40]!.y = -1e6;
    expect(theilSen(points)).toBeCloseTo(2, 9);
  });

  test('a sawtooth is flat; a slow climb on top of it grows; a fall falls', () => {
    expect(judge(series(sawtooth), 60, TOLERANCES.memory).verdict).toBe('flat');
    // 0.05 MiB/s over the 235 s steady period: ≈ 12 MiB, more than the 5 % (5 MiB) allowed.
    const climbing = judge(
      series((x) => sawtooth(x) + 0.05 * x),
      60,
      TOLERANCES.memory,
    );
    expect(climbing.verdict).toBe('grows');
    expect(climbing.slopePerHour).toBeCloseTo(180, 0);
    expect(
      judge(
        series((x) => 300 - 0.1 * x),
        60,
        TOLERANCES.memory,
      ).verdict,
    ).toBe('falls');
  });

  test('the warm-up is left out, and too few samples after it are not judged', () => {
    expect(
      judge(
        series((x) => (x < 60 ? 20 : 30)),
        60,
        TOLERANCES.fds,
      ).verdict,
    ).toBe('flat');
    expect(
      judge(
        series((x) => (x < 60 ? 20 : 30)),
        0,
        TOLERANCES.fds,
      ).verdict,
    ).toBe('grows');
    expect(
      judge(
        series(() => 1),
        290,
        TOLERANCES.fds,
      ).verdict,
    ).toBe('n/a');
  });
});

describe.runIf(ready)('npm run bench:soak (smoke)', () => {
  const cleanup = useCleanup();

  test('samples every series, judges each, writes report.md, soak.svg/.png and samples.json', async () => {
    const { out, leftBehind } = await smokeFolders('soak', cleanup);

    const { code, output } = await runBenchScript(
      'bench:soak',
      ['--duration', '20', '--interval', '2', '--no-build', '--out', out],
      cleanup,
    );
    expect(code, output).toBe(0);
    expect(output).toMatch(/\[soak\] first frame \d+ ms after Start/);
    expect(output).toMatch(/\[soak\] 20 s\/20 s: web service RSS [\d.]+ MiB/);

    const run = JSON.parse(await readFile(join(out, 'samples.json'), 'utf8')) as SoakRun;
    expect(run.failure, 'the run stopped early').toBeUndefined();
    expect(run.samples.length).toBeGreaterThanOrEqual(8);
    for (const sample of run.samples) {
      for (const role of ['web', 'segmenter', 'agent', 'encoder', 'renderer', 'chromium'] as const) {
        const process = sample.processes[role];
        expect(process, `${role} at ${sample.t} s`).toBeDefined();
        expect(process!.rssMiB, `${role}: RSS`).toBeGreaterThan(0);
        expect(process!.fds.total, `${role}: open fds`).toBeGreaterThan(0);
      }
      expect(sample.service.bytesHeld, 'the packager’s bytes held').toBeDefined();
    }
    expect(run.samples.some((s) => s.viewer.stamped > 0)).toBe(true);

    // Every series has samples and a verdict (after the warm-up, 4 s of this 20 s run).
    const judged = judgeAll(run);
    const report = await readFile(join(out, 'report.md'), 'utf8');
    expect(report).toContain('## Summary');
    expect(report).toMatch(/\*\*\d+ of \d+ series stay flat\*\*/);
    expect(report).toContain('| metric | start | end | min | max | trend per hour | tolerance | verdict |');
    for (const spec of SERIES) {
      const series = judged.find((s) => s.spec.id === spec.id);
      expect(series, `${spec.id}: samples`).toBeDefined();
      expect(series!.points.length, `${spec.id}: samples`).toBeGreaterThan(0);
      expect(['flat', 'grows', 'falls'], `${spec.id}: a verdict`).toContain(series!.trend.verdict);
      const line = report.split('\n').find((l) => l.startsWith(`| ${spec.label} |`));
      expect(line, `${spec.id}: a row in report.md`).toMatch(/\| (flat|\*\*grows\*\*|falls) \|$/);
    }

    const svg = await readFile(join(out, 'soak.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    const plotted = SERIES.filter((s) => s.plot);
    expect(svg.match(/<polyline /g)?.length ?? 0).toBe(plotted.length);
    for (const spec of plotted) expect(svg).toContain(spec.label.replace(/&/g, '&amp;'));
    expect((await stat(join(out, 'soak.png'))).size).toBeGreaterThan(0);

    // Its private temporary folder (TMPDIR of everything it started) is gone.
    const left = await leftBehind();
    expect(left, 'temporary folders left behind').toEqual([]);
  }, 150_000);
});
