/**
 * `npm run bench:cameras`: many cameras on one web service. Steps of 1, N/2 and N cameras (10 by
 * default), each on a fresh service and Mosquitto with cameras that are not ours (plain ffmpeg behind
 * the MQTT contract): every camera started one at a time and all together, then all live for a
 * window in which the service and each camera's segmenter are sampled from /proc and every playlist
 * is followed part by part. Writes report.md, cameras.svg (+ .png) and samples.json. See README.md here.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runBench, type WriteContext } from '../lib/main.js';
import { commandLine } from '../systems/common.js';
import { parseArgs, USAGE, type CamerasOptions } from './options.js';
import { camerasPlot } from './plot.js';
import { PLOT_FILE, renderReport } from './report.js';
import { runStep } from './step.js';
import { groupSteps, stepFigures } from './summary.js';
import type { CamerasRun } from './types.js';

/** The service's CLI inside a checkout (--baseline). */
const BASELINE_CLI = 'apps/web-service/dist/server.js';

/** Upper bound for the whole run: per step, start-up, the start rounds (20 s a start at worst) and the window. */
function timeLimitMs(options: CamerasOptions): number {
  const perStep = (n: number) => 60_000 + options.rounds * (n + 1) * 20_000 + options.durationSec * 1000;
  const pairs = options.baseline === undefined ? 0 : 2 * options.pairs * perStep(1);
  return options.steps.reduce((total, n) => total + perStep(n), 120_000 + pairs);
}

async function writeOutputs(dir: string, run: CamerasRun, ctx: WriteContext): Promise<void> {
  await writeFile(join(dir, 'report.md'), renderReport(run));
  // The PNG is drawn by Chromium, started only now: it takes no CPU from the measuring.
  await ctx.plot(
    dir,
    PLOT_FILE,
    camerasPlot(groupSteps(run.steps).ours.map(stepFigures), {
      title: 'Many cameras on one web service (LL-HLS)',
      subtitle:
        `${run.startedAt}; medians over ${run.options.durationSec} s with every camera live; ` +
        `a shared ${run.machine.cores}-core machine`,
    }),
  );
}

runBench<CamerasOptions, CamerasRun>({
  name: 'cameras',
  usage: USAGE,
  parse: parseArgs,
  tools: { commands: ['ffmpeg', 'mosquitto'], chromium: true },
  versions: ['ffmpeg', 'Node', 'playwright-core', 'mosquitto'],
  timeLimitMs,
  outDir: (stamp) => `cameras-${stamp}`,
  tmpdir: true,
  write: writeOutputs,
  async measure({ options, command, machine, startedAt, teardown, log }) {
    const run: CamerasRun = {
      startedAt: startedAt.toISOString(),
      command,
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
    return run;
  },
});
