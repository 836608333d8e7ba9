/**
 * `npm run bench:soak`: one LL-HLS stream with one viewer for a bounded time (30 minutes by default),
 * sampling memory, file descriptors, disk use and latency every few seconds, then a verdict per
 * series: flat or not. Writes report.md, soak.svg (+ .png) and samples.json. See bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { STREAM_PLAYLIST_NAME } from '@camstream/protocol';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser } from '../lib/browser.js';
import { startSystem } from '../../test/helpers/system.js';
import { CHROMIUM_PATH } from '../../test/helpers/tools.js';
import { buildOrCheck } from '../lib/build.js';
import { copyToLatest } from '../lib/latest.js';
import { machineInfo } from '../lib/machine.js';
import { median } from '../lib/stats.js';
import { Teardown } from '../lib/teardown.js';
import { NGINX_PATH } from '../peer/nginx.js';
import { svgToPng } from '../report/png.js';
import { STEP_TIMEOUT_MS, VIDEO_ENV } from '../systems/common.js';
import { duration } from './format.js';
import { parseArgs, USAGE, warmupOf, type SoakOptions } from './options.js';
import { soakPlot } from './plot.js';
import { folderUsage, mediaCacheControl, serviceMetrics } from './probes.js';
import { PLOT_FILE, PLOT_PNG, renderReport } from './report.js';
import { Sampler } from './sampler.js';
import { judgeAll } from './series.js';
import type { SoakRun } from './types.js';
import { Viewer } from './viewer.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
const log = (line: string) => console.log(`[soak] ${line}`);

function checkTools(): void {
  const missing: string[] = [];
  if (spawnSync('sh', ['-c', 'command -v ffmpeg'], { stdio: 'ignore' }).status !== 0) missing.push('ffmpeg');
  if (!existsSync(CHROMIUM_PATH)) missing.push('chromium');
  if (missing.length > 0)
    throw new Error(`missing ${missing.join(', ')}: apt-get install -y ${missing.join(' ')}`);
}

/** Upper bound for the whole run: start-up and the report take well under three minutes. */
const timeLimitMs = (options: SoakOptions) => options.durationSec * 1000 + 180_000;

async function writeOutputs(dir: string, run: SoakRun, browser: BrowserContext): Promise<void> {
  const svg = soakPlot(judgeAll(run), {
    title: `Soak: one LL-HLS stream, one viewer, ${duration(run.options.durationSec)}`,
    subtitle: `${run.startedAt}; a sample every ${run.options.intervalSec} s; x: time since the viewer’s first frame`,
    durationSec: run.options.durationSec,
    warmupSec: run.warmupSec,
  });
  await writeFile(join(dir, 'report.md'), renderReport(run));
  await writeFile(join(dir, PLOT_FILE), svg);
  await svgToPng(browser, svg, join(dir, PLOT_PNG));
}

async function rerender(dir: string): Promise<number> {
  const run = JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8')) as SoakRun;
  const teardown = new Teardown();
  try {
    await writeOutputs(dir, run, await launchBrowser(teardown));
    log(`re-rendered ${relative(process.cwd(), join(dir, 'report.md'))}`);
    return 0;
  } finally {
    await teardown.run();
  }
}

/** One progress line: elapsed, the service's RSS and fds, the viewer's latency over the last stretch. */
function progress(run: SoakRun, sinceT: number): string {
  const last = run.samples.at(-1)!;
  const recent = run.samples.filter((s) => s.t > sinceT);
  const latency = median(recent.flatMap((s) => s.viewer.latencyMedianMs ?? []));
  const stalls = run.samples.reduce((sum, s) => sum + s.viewer.stalls, 0);
  const web = last.processes.web;
  const renderer = last.processes.renderer;
  return (
    `${duration(last.t)}/${duration(run.options.durationSec)}: web service RSS ${web?.rssMiB.toFixed(1) ?? 'n/a'} MiB, ` +
    `${web?.fds.total ?? 'n/a'} fds, packager ${((last.service.bytesHeld ?? NaN) / 2 ** 20).toFixed(2)} MiB; ` +
    `renderer RSS ${renderer?.rssMiB.toFixed(0) ?? 'n/a'} MiB; glass-to-glass ${latency === undefined ? 'n/a' : `${Math.round(latency)} ms`}; ` +
    `${stalls} stalls; load ${last.load1}`
  );
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
  // Before the build, which loads the machine itself. The peer's versions do not apply here.
  const machine = machineInfo(ROOT, CHROMIUM_PATH, NGINX_PATH);
  delete machine.versions.nginx;
  delete machine.versions['libnginx-mod-rtmp'];
  buildOrCheck(ROOT, options.build, log);
  const startedAt = new Date();
  const outDir = resolve(options.out ?? join(RESULTS, 'soak', startedAt.toISOString().replace(/[:.]/g, '-')));
  const teardown = new Teardown();
  const unguard = teardown.guard(timeLimitMs(options));
  try {
    // One private temporary folder for the run, TMPDIR of every process it starts (and of this one,
    // which makes HLS_DIR and the Chromium profile there): its disk figures are the run's alone,
    // whatever else the machine's /tmp holds. Registered first, so it is removed last.
    const tempRoot = await mkdtemp(join(tmpdir(), 'camstream-soak-'));
    teardown.add(() => rm(tempRoot, { recursive: true, force: true }), 'the temporary folder');
    process.env.TMPDIR = tempRoot;

    log('starting the web service (HLS_MODE=ll, embedded broker) and the agent (stamped test source)');
    const system = await startSystem(teardown, {
      broker: 'embedded',
      webEnv: { LOG_LEVEL: 'info', HLS_MODE: 'll' },
      agentEnv: { ...VIDEO_ENV, LOG_LEVEL: 'info' },
    });
    const { hlsMode } = (await system.api('/api/stream')).body as { hlsMode?: string };
    if (hlsMode !== 'll') throw new Error(`the service says hlsMode ${hlsMode}, not ll`);
    log('launching Chromium');
    const browser = await launchBrowser(teardown);
    const profile = (await readdir(tempRoot)).find((name) => name.startsWith('camstream-chromium-'));
    const profileDir = profile === undefined ? undefined : join(tempRoot, profile);
    const viewer = await Viewer.open(browser);
    await viewer.start(system.baseUrl, STEP_TIMEOUT_MS);
    log(
      `first frame ${Math.round(viewer.firstFrameAt - viewer.clickedAt)} ms after Start; sampling every ${options.intervalSec} s`,
    );

    const sampler = new Sampler(system, viewer, {
      metrics: () => serviceMetrics(`${system.baseUrl}/metrics`),
      disk: async () => {
        // The profile is walked once: its HTTP cache apart, then added to the rest.
        const cacheDir = profileDir && join(profileDir, 'Default', 'Cache');
        const cache = cacheDir ? folderUsage(cacheDir) : { bytes: 0, files: 0 };
        const rest = profileDir ? folderUsage(profileDir, [cacheDir!]) : { bytes: 0, files: 0 };
        return {
          hlsDir: folderUsage(system.hlsDir),
          profile: { bytes: rest.bytes + cache.bytes, files: rest.files + cache.files },
          profileCache: cache,
          otherTemp: folderUsage(tempRoot, [system.hlsDir, ...(profileDir ? [profileDir] : [])]),
        };
      },
      load: () => Math.round(loadavg()[0]! * 100) / 100,
    });
    const run: SoakRun = {
      startedAt: startedAt.toISOString(),
      command: argv.length === 0 ? 'npm run bench:soak' : `npm run bench:soak -- ${argv.join(' ')}`,
      options,
      warmupSec: warmupOf(options),
      machine,
      clickedAt: viewer.clickedAt,
      firstFrameAt: viewer.firstFrameAt,
      samples: [],
      mediaEvents: viewer.mediaEvents,
      commands: await sampler.commands(),
    };
    const cacheControl = await mediaCacheControl(`${system.baseUrl}/hls/${STREAM_PLAYLIST_NAME}`).catch(
      () => undefined,
    );
    if (cacheControl !== undefined) run.mediaCacheControl = cacheControl;
    // Short runs get their lines more often than once a minute, so a person sees it move.
    const everySec = Math.min(60, Math.max(options.intervalSec, options.durationSec / 6));
    let lineAt = 0;
    try {
      for (let k = 0; ; k++) {
        // The plan, not the measured t, decides when a line is due and which sample is the last: the
        // page's clock (firstFrameAt) and this one differ by a few ms.
        const planned = Math.min(k * options.intervalSec, options.durationSec);
        const last = planned >= options.durationSec;
        const due = viewer.firstFrameAt + planned * 1000;
        // Past the planned time (a slow sample), the next one is due at once: the clock does not drift.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
        run.samples.push(await sampler.sample());
        if (planned - lineAt >= everySec || last) {
          log(progress(run, lineAt));
          lineAt = planned;
        }
        if (last) break;
      }
    } catch (err) {
      run.failure = { message: (err as Error).message, t: run.samples.at(-1)?.t ?? 0 };
      log(`stopped early: ${run.failure.message}`);
    }

    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'samples.json'), JSON.stringify(run, null, 1) + '\n');
    await writeOutputs(outDir, run, browser);
    log(`report: ${relative(process.cwd(), join(outDir, 'report.md'))}`);
    if (options.latest && !run.failure && (await copyToLatest(outDir, join(RESULTS, 'soak-latest')))) {
      log(`copied to ${relative(process.cwd(), join(RESULTS, 'soak-latest'))}`);
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
    console.error(`[soak] failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
