/**
 * `npm run bench:recordings`: what recording a camera costs. For our agent's test source and for a
 * camera that is not ours (plain ffmpeg), each on a fresh service and Mosquitto: the service sampled
 * with recording off, on and off again in one run (measure.ts); the bytes and files written per
 * hour, how soon a closed segment is on disk, and the MP4 download. Writes report.md,
 * recordings.svg (+ .png) and samples.json to bench/results/recordings-<time>, copied to
 * bench/results/recordings-latest (or to --out).
 *
 *   npm run bench:recordings [-- --seconds 60 --cameras agent,foreign --downloads 3 --smoke --no-build]
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runBench, type WriteContext } from '../lib/main.js';
import { Teardown } from '../lib/teardown.js';
import { measureCamera } from './measure.js';
import { parseArgs, USAGE, type RecordingsOptions } from './options.js';
import { recordingsPlot } from './plot.js';
import { PLOT_FILE, renderReport } from './report.js';
import { cameraFigures } from './summary.js';
import type { RecordingsRun } from './types.js';

/** Upper bound for the whole run: per camera, start-up, the three phases, the downloads. */
function timeLimitMs(options: RecordingsOptions): number {
  const perCamera = 90_000 + (options.warmupSec + 2 * options.seconds) * 1000 + options.downloads * 60_000;
  return 120_000 + options.cameras.length * perCamera;
}

async function writeOutputs(dir: string, run: RecordingsRun, ctx: WriteContext): Promise<void> {
  await writeFile(join(dir, 'report.md'), renderReport(run));
  // The PNG is drawn by Chromium, started only now: it takes no CPU from the measuring.
  await ctx.plot(
    dir,
    PLOT_FILE,
    recordingsPlot(run.cameras, {
      title: 'Recording a camera: the service and the disk',
      subtitle: `${run.startedAt}; ${run.options.seconds} s recorded per camera; a shared ${run.machine.cores}-core machine`,
    }),
  );
}

runBench<RecordingsOptions, RecordingsRun>({
  name: 'recordings',
  usage: USAGE,
  parse: parseArgs,
  tools: { commands: ['ffmpeg', 'ffprobe', 'mosquitto'], chromium: true },
  versions: ['ffmpeg', 'Node', 'playwright-core', 'mosquitto'],
  timeLimitMs,
  outDir: (stamp) => `recordings-${stamp}`,
  tmpdir: true,
  write: writeOutputs,
  async measure({ options, command, machine, startedAt, teardown, tempRoot, log }) {
    const run: RecordingsRun = { startedAt: startedAt.toISOString(), command, machine, options, cameras: [] };
    try {
      for (const kind of options.cameras) {
        // Each camera on its own service, stopped before the next one starts.
        const own = new Teardown();
        teardown.add(() => own.run(), `the ${kind} camera's system`);
        try {
          run.cameras.push(await measureCamera(kind, options, { teardown: own, tempDir: tempRoot!, log }));
        } finally {
          await own.run();
        }
        const f = cameraFigures(run.cameras.at(-1)!);
        log(
          `${kind}: ${Math.round(f.mbPerHour)} MB/h, ${(f.bytesPerSecond / 1000).toFixed(1)} kB/s, ` +
            `${Math.round(f.filesPerHour)} files/h; service CPU ${f.off.serviceCpu?.toFixed(1)} % off, ` +
            `${f.on.serviceCpu?.toFixed(1)} % on; on disk ${f.onDisk.medianMs?.toFixed(1)} ms after a segment closes (median); ` +
            `MP4 in ${Math.round(f.download.medianMs ?? NaN)} ms`,
        );
      }
    } catch (err) {
      run.failure = (err as Error).message;
      log(`stopped early: ${run.failure}`);
    }
    return run;
  },
});
