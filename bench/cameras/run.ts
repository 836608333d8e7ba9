/**
 * `npm run bench:cameras`: many cameras on one web service. Steps of 1, N/2 and N cameras (10 by
 * default), each on a fresh service and Mosquitto with cameras that are not ours (plain ffmpeg behind
 * the MQTT contract): every camera started one at a time and all together, then all live for a
 * window in which the service and each camera's segmenter are sampled from /proc and every playlist
 * is followed part by part. Writes report.md, cameras.svg (+ .png) and samples.json. See README.md here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { CHROMIUM_PATH } from '../../test/helpers/tools.js';
import { launchBrowser } from '../lib/browser.js';
import { buildOrCheck } from '../lib/build.js';
import { copyToLatest } from '../lib/latest.js';
import { machineInfo } from '../lib/machine.js';
import { Teardown } from '../lib/teardown.js';
import { NGINX_PATH } from '../peer/nginx.js';
import { svgToPng } from '../report/png.js';
import { commandLine } from '../systems/common.js';
import { parseArgs, USAGE, type CamerasOptions } from './options.js';
import { camerasPlot } from './plot.js';
import { PLOT_FILE, PLOT_PNG, renderReport } from './report.js';
import { runStep } from './step.js';
import { groupSteps, stepFigures } from './summary.js';
import type { CamerasRun } from './types.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
/** The service's CLI inside a checkout (--baseline). */
const BASELINE_CLI = 'apps/web-service/dist/server.js';
const log = (line: string) => console.log(`[cameras] ${line}`);

function checkTools(): void {
  const missing = ['ffmpeg', 'mosquitto'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
  );
  if (!existsSync(CHROMIUM_PATH)) missing.push('chromium');
  if (missing.length > 0)
    throw new Error(`missing ${missing.join(', ')}: apt-get install -y ${missing.join(' ')}`);
}

/** Upper bound for the whole run: per step, start-up, the start rounds (20 s a start at worst) and the window. */
function timeLimitMs(options: CamerasOptions): number {
  const perStep = (n: number) => 60_000 + options.rounds * (n + 1) * 20_000 + options.durationSec * 1000;
  const pairs = options.baseline === undefined ? 0 : 2 * options.pairs * perStep(1);
  return options.steps.reduce((total, n) => total + perStep(n), 120_000 + pairs);
}

async function writeOutputs(dir: string, run: CamerasRun, teardown: Teardown): Promise<void> {
  await writeFile(join(dir, 'report.md'), renderReport(run));
  const svg = camerasPlot(groupSteps(run.steps).ours.map(stepFigures), {
    title: 'Many cameras on one web service (LL-HLS)',
    subtitle:
      `${run.startedAt}; medians over ${run.options.durationSec} s with every camera live; ` +
      `a shared ${run.machine.cores}-core machine`,
  });
  await writeFile(join(dir, PLOT_FILE), svg);
  // The PNG is drawn by Chromium, started only now: it takes no CPU from the measuring.
  await svgToPng(await launchBrowser(teardown), svg, join(dir, PLOT_PNG));
}

async function rerender(dir: string): Promise<number> {
  const run = JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8')) as CamerasRun;
  const teardown = new Teardown();
  try {
    await writeOutputs(dir, run, teardown);
    log(`re-rendered ${relative(process.cwd(), join(dir, 'report.md'))}`);
    return 0;
  } finally {
    await teardown.run();
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseArgs(argv);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.rerender !== undefined) return rerender(resolve(options.rerender));
  checkTools();
  const machine = machineInfo(ROOT, CHROMIUM_PATH, NGINX_PATH);
  for (const unused of ['nginx', 'libnginx-mod-rtmp', 'hls.js', 'Chromium']) delete machine.versions[unused];
  machine.versions.mosquitto =
    /mosquitto version (\S+)/.exec(spawnSync('mosquitto', ['-h'], { encoding: 'utf8' }).stdout ?? '')?.[1] ??
    'unknown';
  buildOrCheck(ROOT, options.build, log);
  const startedAt = new Date();
  const outDir = resolve(
    options.out ?? join(RESULTS, `cameras-${startedAt.toISOString().replace(/[:.]/g, '-')}`),
  );
  const teardown = new Teardown();
  const unguard = teardown.guard(timeLimitMs(options));
  try {
    // One private temporary folder, TMPDIR of every process the run starts: nothing is left in /tmp.
    const tempRoot = await mkdtemp(join(tmpdir(), 'camstream-cameras-'));
    teardown.add(() => rm(tempRoot, { recursive: true, force: true }), 'the temporary folder');
    process.env.TMPDIR = tempRoot;
    log(`temporary folder ${tempRoot}`);

    const run: CamerasRun = {
      startedAt: startedAt.toISOString(),
      command:
        argv.length === 0
          ? 'npm run bench:cameras'
          : `npm run bench:cameras -- ${argv.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`,
      options,
      machine,
      commands: {},
      steps: [],
    };
    try {
      const baselineCli =
        options.baseline === undefined ? undefined : join(resolve(options.baseline), BASELINE_CLI);
      if (baselineCli !== undefined && !existsSync(baselineCli))
        throw new Error(`--baseline: no ${baselineCli} (npm ci and npm run build there first)`);
      // With a baseline, one camera on it and on ours take turns `pairs` times; then ours' other steps.
      const plan = baselineCli
        ? [
            ...Array.from({ length: options.pairs }, () => [{ count: 1, baselineCli }, { count: 1 }]).flat(),
            ...options.steps.filter((count) => count > 1).map((count) => ({ count })),
          ]
        : options.steps.map((count) => ({ count }));
      for (const { count, baselineCli: cli } of plan as { count: number; baselineCli?: string }[]) {
        run.steps.push(
          await runStep(teardown, {
            count,
            ...(cli !== undefined && { baselineCli: cli }),
            rounds: options.rounds,
            durationSec: options.durationSec,
            log,
            onLive: async (fleet) => {
              if (cli !== undefined || Object.keys(run.commands).length > 0) return;
              const encoder = fleet.cameras.get('cam1')?.commandLine;
              const segmenter = await commandLine(fleet.segmenters.get('cam1'));
              if (encoder) run.commands['a camera’s encoder (ffmpeg, the bench’s)'] = encoder;
              if (segmenter)
                run.commands['a camera’s segmenter (ffmpeg, in the service)'] = segmenter.join(' ');
            },
          }),
        );
        const f = stepFigures(run.steps.at(-1)!);
        log(
          `${count} camera(s)${cli ? ', baseline' : ''}: service ${f.serviceCpu?.toFixed(1)} % CPU, ${f.serviceRss?.toFixed(1)} MiB; ` +
            `start ${Math.round(f.alone.median ?? NaN)} ms alone, ${Math.round(f.together.median ?? NaN)} ms together; ` +
            `${f.errors.total} errors`,
        );
      }
    } catch (err) {
      run.failure = (err as Error).message;
      log(`stopped early: ${run.failure}`);
    }

    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'samples.json'), JSON.stringify(run, null, 1) + '\n');
    await writeOutputs(outDir, run, teardown);
    log(`report: ${relative(process.cwd(), join(outDir, 'report.md'))}`);
    if (options.latest && !run.failure && (await copyToLatest(outDir, join(RESULTS, 'cameras-latest')))) {
      log(`copied to ${relative(process.cwd(), join(RESULTS, 'cameras-latest'))}`);
    }
    return run.failure ? 1 : 0;
  } finally {
    log('stopping everything');
    await teardown.run();
    unguard();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[cameras] failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
