/**
 * The many-viewers bench works: `npm run bench:viewers` with two small steps runs Mosquitto, the
 * service, a camera that is not ours, the load generator, one real hls.js player and the nginx peer;
 * every simulated viewer gets playlists and parts with no error, the player's requests are blocking
 * delta reloads as the simulation's are, the service is profiled, and report.md, the plot and
 * samples.json are written; nothing is left behind. The lateness arithmetic is checked on its own.
 * No timing assertions on the figures: they are the report's business.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { GeneratorWindow } from '../bench/viewers/generator.js';
import { parseArgs } from '../bench/viewers/options.js';
import type { ViewersRun } from '../bench/viewers/report.js';
import { SERVICE } from '../bench/viewers/step.js';
import { latenessOf, loadFigures } from '../bench/viewers/summary.js';
import { runBenchScript, smokeFolders } from './helpers/bench-process.js';
import { useCleanup } from './helpers/cleanup.js';
import { processesWithEnv } from './helpers/processes.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';

const ready = haveTools('ffmpeg', 'mosquitto', CHROMIUM_PATH, '/usr/sbin/nginx');

describe('bench:viewers options', () => {
  test('steps sorted and deduplicated, the profile at the largest step, bad values refused', () => {
    expect(parseArgs([]).steps).toEqual([100, 500, 1000]);
    expect(parseArgs(['--steps', '50,10,50']).steps).toEqual([10, 50]);
    expect(parseArgs(['--no-peer']).peer).toBe(false);
    expect(parseArgs([]).edge).toBeUndefined();
    expect(parseArgs(['--edge', 'varnish']).edge).toBe('varnish');
    expect(() => parseArgs(['--edge', 'nginx'])).toThrow(/--edge takes varnish/);
    expect(() => parseArgs(['--steps', '0'])).toThrow(/--steps/);
    expect(() => parseArgs(['--steps', 'ten'])).toThrow(/--steps/);
    expect(() => parseArgs(['--viewers'])).toThrow(/unknown argument/);
  });
});

describe('bench:viewers lateness', () => {
  const window = (viewers: number, playlists: Record<string, number[]>): GeneratorWindow => ({
    viewers,
    playlists,
    parts: {},
    requests: { playlist: 0, part: 0, init: 0, segment: 0 },
    bytes: 0,
    errors: {},
    cpuPercent: 10,
    loopDelayP99Ms: 5,
    startedAt: 0,
    endedAt: 10_000,
  });

  test('each arrival minus the first arrival of its version, over every generator process', () => {
    const late = latenessOf(
      [window(2, { '5.0': [2000, 2010], '5.1': [3000, 3040] }), window(1, { '5.0': [2001], '5.1': [2990] })],
      'playlists',
    );
    // 5.0: 0, 10, 1; 5.1: 10, 50, 0 (the second process had it first).
    expect(late.count).toBe(6);
    expect(late.max).toBe(50);
    expect(late.p50).toBeGreaterThanOrEqual(1);
    expect(late.p50).toBeLessThanOrEqual(10);
  });

  test('versions first seen in the window’s first or last second are not judged', () => {
    const late = latenessOf(
      [window(1, { early: [500, 900], late: [9500, 9600], mid: [5000, 5020] })],
      'playlists',
    );
    expect(late.count).toBe(2);
    expect(late.max).toBe(20);
    expect(latenessOf([window(1, { early: [100] })], 'playlists')).toEqual({ count: 0 });
  });

  test('errors add up over the processes, rates are per viewer and second', () => {
    const a = {
      ...window(2, {}),
      errors: { timeout: 1 },
      bytes: 1000,
      requests: { ...window(0, {}).requests, playlist: 40 },
    };
    const b = { ...window(3, {}), errors: { timeout: 2, '503': 1 }, bytes: 4000 };
    const figures = loadFigures([a, b]);
    expect(figures.viewers).toBe(5);
    expect(figures.errors).toEqual({ timeout: 3, '503': 1 });
    expect(figures.errorCount).toBe(4);
    expect(figures.playlistsPerViewerSec).toBeCloseTo(40 / 5 / 10);
    expect(figures.bytesPerSec).toBe(500);
  });
});

describe.runIf(ready)('npm run bench:viewers (smoke)', () => {
  const cleanup = useCleanup();

  test('two steps and the peer: every viewer served without error, the report, plot and profile written', async () => {
    const { out, leftBehind } = await smokeFolders('viewers', cleanup);

    const { code, output } = await runBenchScript(
      'bench:viewers',
      [
        '--steps',
        '5,15',
        '--duration',
        '5',
        '--ramp',
        '1',
        '--settle',
        '2',
        '--browsers',
        '1',
        '--no-build',
        '--out',
        out,
      ],
      cleanup,
    );
    expect(code, output).toBe(0);

    const run = JSON.parse(await readFile(join(out, 'samples.json'), 'utf8')) as ViewersRun;
    expect(run.failure).toBeUndefined();
    expect(run.steps.map((s) => s.viewers)).toEqual([5, 15]);
    for (const step of run.steps) {
      const where = `${step.viewers} viewers`;
      expect(step.errors, where).toEqual([]);
      expect(step.load.viewers, where).toBe(step.viewers);
      expect(step.load.errorCount, `${where}: ${JSON.stringify(step.load.errors)}`).toBe(0);
      // Parts of about 0.2 s: some 5 playlist versions and parts a second reach every viewer.
      expect(step.load.playlistsPerViewerSec, where).toBeGreaterThan(2);
      expect(step.load.partsPerViewerSec, where).toBeGreaterThan(2);
      expect(step.load.playlist.count, where).toBeGreaterThan(step.viewers);
      expect(step.load.part.p99, where).toBeGreaterThanOrEqual(0);
      expect(
        step.resources[SERVICE]!.cpuPercent.length,
        `${where}: the service sampled`,
      ).toBeGreaterThanOrEqual(3);
      // The real hls.js player asked as the simulation does: blocking, delta, and it played.
      const browsers = step.browsers!;
      expect(browsers.failures, where).toBe(0);
      expect(browsers.blockingShare, where).toBeGreaterThan(0.9);
      expect(browsers.deltaShare, where).toBeGreaterThan(0.9);
      expect(browsers.framesPerPlayer[0], where).toBeGreaterThan(30);
      // The peer's polling viewers, of nginx.
      expect(step.peer!.load.errorCount, `${where}: peer`).toBe(0);
      expect(step.peer!.load.partsPerViewerSec, `${where}: peer segments`).toBeGreaterThan(0);
    }
    expect(run.steps.map((s) => s.profiled)).toEqual([false, true]);
    expect(run.profile?.viewers).toBe(15);
    expect(run.profile!.top.length).toBeGreaterThan(3);
    expect((await stat(join(out, 'service-15-viewers.cpuprofile'))).size).toBeGreaterThan(1000);

    const report = await readFile(join(out, 'report.md'), 'utf8');
    expect(report).toContain('## The peer: nginx serving plain HLS');
    expect(report).toContain('## The simulation beside hls.js');
    expect(report).toContain('## Where the service’s time goes');
    expect(report).toMatch(/\n\| 15 \| \d+ \/ \*\*\d+\*\* \|/);
    const svg = await readFile(join(out, 'viewers.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).not.toContain('NaN');
    expect((await stat(join(out, 'viewers.png'))).size).toBeGreaterThan(1000);

    // Nothing left: its temporary folder, and no process of the run (each has it as its TMPDIR).
    const temp = /\[viewers\] temporary folder (\S+)/.exec(output)?.[1];
    expect(temp, 'the run names its temporary folder').toBeDefined();
    const left = await leftBehind();
    expect(left, 'temporary folders left behind').toEqual([]);
    expect(await processesWithEnv(`TMPDIR=${temp}`), 'processes left behind').toEqual([]);
  }, 240_000);
});
