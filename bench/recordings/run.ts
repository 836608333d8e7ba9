/**
 * `npm run bench:recordings`: what recording a camera costs. For our agent's test source and for a
 * camera that is not ours (plain ffmpeg), each on a fresh service and Mosquitto: the service sampled
 * with recording off, on and off again in one run (measure.ts); the bytes and files written per
 * hour, how soon a closed segment is on disk, and the MP4 download. Writes report.md,
 * recordings.svg (+ .png) and samples.json to bench/results/recordings (or --out).
 *
 *   npm run bench:recordings [-- --seconds 60 --cameras agent,foreign --downloads 3 --smoke --no-build]
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { CHROMIUM_PATH } from '../../test/helpers/tools.js';
import { launchBrowser } from '../lib/browser.js';
import { buildOrCheck } from '../lib/build.js';
import { machineInfo } from '../lib/machine.js';
import { Teardown } from '../lib/teardown.js';
import { svgToPng } from '../report/png.js';
import { measureCamera } from './measure.js';
import { parseArgs, USAGE, type RecordingsOptions } from './options.js';
import { recordingsPlot } from './plot.js';
import { PLOT_FILE, PLOT_PNG, renderReport } from './report.js';
import { cameraFigures } from './summary.js';
import type { RecordingsRun } from './types.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results', 'recordings');
const log = (line: string) => console.log(`[recordings] ${line}`);

function checkTools(): void {
  const missing = ['ffmpeg', 'ffprobe', 'mosquitto'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
  );
  if (missing.length > 0)
    throw new Error(`missing ${missing.join(', ')}: apt-get install -y ffmpeg mosquitto`);
}

/** Upper bound for the whole run: per camera, start-up, the three phases, the downloads. */
function timeLimitMs(options: RecordingsOptions): number {
  const perCamera = 90_000 + (options.warmupSec + 2 * options.seconds) * 1000 + options.downloads * 60_000;
  return 120_000 + options.cameras.length * perCamera;
}

async function writeOutputs(dir: string, run: RecordingsRun, teardown: Teardown): Promise<void> {
  await writeFile(join(dir, 'report.md'), renderReport(run));
  const svg = recordingsPlot(run.cameras, {
    title: 'Recording a camera: the service and the disk',
    subtitle: `${run.startedAt}; ${run.options.seconds} s recorded per camera; a shared ${run.machine.cores}-core machine`,
  });
  await writeFile(join(dir, PLOT_FILE), svg);
  // The PNG is drawn by Chromium, started only now: it takes no CPU from the measuring.
  await svgToPng(await launchBrowser(teardown), svg, join(dir, PLOT_PNG));
}

async function rerender(dir: string): Promise<number> {
  const run = JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8')) as RecordingsRun;
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
  const machine = machineInfo(ROOT, CHROMIUM_PATH, 'nginx');
  for (const unused of ['nginx', 'libnginx-mod-rtmp', 'hls.js', 'Chromium']) delete machine.versions[unused];
  buildOrCheck(ROOT, options.build, log);
  const outDir = resolve(options.out ?? RESULTS);
  const teardown = new Teardown();
  const unguard = teardown.guard(timeLimitMs(options));
  try {
    // One private temporary folder, TMPDIR of every process the run starts (and RECORD_DIR's parent).
    const tempRoot = await mkdtemp(join(tmpdir(), 'camstream-bench-rec-'));
    teardown.add(() => rm(tempRoot, { recursive: true, force: true }), 'the temporary folder');
    process.env.TMPDIR = tempRoot;
    log(`temporary folder ${tempRoot}`);
    const run: RecordingsRun = {
      startedAt: new Date().toISOString(),
      command: `npm run bench:recordings${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
      machine,
      options,
      cameras: [],
    };
    try {
      for (const kind of options.cameras) {
        // Each camera on its own service, stopped before the next one starts.
        const own = new Teardown();
        teardown.add(() => own.run(), `the ${kind} camera's system`);
        try {
          run.cameras.push(await measureCamera(kind, options, { teardown: own, tempDir: tempRoot, log }));
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
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'samples.json'), JSON.stringify(run, null, 1) + '\n');
    await writeOutputs(outDir, run, teardown);
    log(`report: ${relative(process.cwd(), join(outDir, 'report.md'))}`);
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
    console.error(`[recordings] failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
