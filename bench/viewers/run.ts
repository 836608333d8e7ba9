/**
 * `npm run bench:viewers`: how many Low-Latency HLS viewers one service holds. Steps of N simulated
 * hls.js-like viewers (viewer.ts) of one camera, each step on a fresh service, with a few real hls.js
 * players beside them and the service profiled in one step. Writes report.md, viewers.svg (+ .png),
 * samples.json and the profile. See README.md here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
import { parseArgs, USAGE, type ViewersOptions } from './options.js';
import { serviceCpu, viewersPlot } from './plot.js';
import { readProfile } from './profile.js';
import { PLOT_FILE, PLOT_PNG, renderReport, type ViewersRun } from './report.js';
import { EDGE, NGINX, runPeerStep, runViewersStep } from './step.js';
import { median } from '../lib/stats.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
const log = (line: string) => console.log(`[viewers] ${line}`);

function checkTools(): void {
  const missing = ['ffmpeg', 'mosquitto'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
  );
  if (!existsSync(CHROMIUM_PATH)) missing.push('chromium');
  if (missing.length > 0)
    throw new Error(`missing ${missing.join(', ')}: apt-get install -y ${missing.join(' ')}`);
}

/**
 * Upper bound for the whole run: per step (once per HLS_WORKERS value, and once more for the peer),
 * start-up and stopping, the ramp, the settling and the window.
 */
function timeLimitMs(o: ViewersOptions): number {
  const steps = o.steps.length * (Math.max(1, o.workers.length) + (o.peer ? 1 : 0));
  return steps * (90_000 + (o.rampSec + o.settleSec + o.durationSec) * 1000) + 120_000;
}

async function writeOutputs(dir: string, run: ViewersRun, teardown: Teardown): Promise<void> {
  await writeFile(join(dir, 'report.md'), renderReport(run));
  // One configuration per plot (x is the viewer count): the first HLS_WORKERS value's steps.
  const first = run.options.workers?.[0] ?? 0;
  const svg = viewersPlot(
    run.steps.filter((step) => (step.workers ?? 0) === first),
    {
      title: 'Many LL-HLS viewers of one camera, one web service',
      subtitle: `${run.startedAt}; ${run.options.durationSec} s per step; a shared ${run.machine.cores}-core machine (the generator runs on it too)${first > 0 ? `; HLS_WORKERS=${first}` : ''}`,
    },
  );
  await writeFile(join(dir, PLOT_FILE), svg);
  // Chromium draws the PNG only now: it takes no CPU from the measuring.
  await svgToPng(await launchBrowser(teardown), svg, join(dir, PLOT_PNG));
}

async function rerender(dir: string): Promise<number> {
  const run = JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8')) as ViewersRun;
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
  for (const unused of ['nginx', 'libnginx-mod-rtmp']) delete machine.versions[unused];
  buildOrCheck(ROOT, options.build, log);
  const startedAt = new Date();
  const outDir = resolve(
    options.out ?? join(RESULTS, `viewers-${startedAt.toISOString().replace(/[:.]/g, '-')}`),
  );
  const teardown = new Teardown();
  const unguard = teardown.guard(timeLimitMs(options));
  try {
    const tempRoot = await mkdtemp(join(tmpdir(), 'camstream-viewers-'));
    teardown.add(() => rm(tempRoot, { recursive: true, force: true }), 'the temporary folder');
    process.env.TMPDIR = tempRoot;
    log(`temporary folder ${tempRoot}`);
    const run: ViewersRun = {
      startedAt: startedAt.toISOString(),
      command: argv.length === 0 ? 'npm run bench:viewers' : `npm run bench:viewers -- ${argv.join(' ')}`,
      options,
      machine,
      steps: [],
    };
    const browser = options.browsers > 0 ? await launchBrowser(teardown) : undefined;
    let profileDir: string | undefined;
    try {
      for (const viewers of options.steps)
        for (const workers of options.workers) {
          const profiled = viewers === options.profileAt && workers === options.workers[0];
          if (profiled) profileDir = await mkdtemp(join(tempRoot, 'profile-'));
          log(`${viewers} viewers, HLS_WORKERS=${workers}${profiled ? ' (the service profiled)' : ''}`);
          const step = await runViewersStep(teardown, browser, {
            viewers,
            durationSec: options.durationSec,
            rampSec: options.rampSec,
            settleSec: options.settleSec,
            generators: options.generators,
            browsers: options.browsers,
            ...(profiled && profileDir && { profileDir }),
            ...(options.edge && { edge: options.edge }),
            workers,
            log,
          });
          if (options.peer && workers === options.workers[0]) {
            step.peer = await runPeerStep(teardown, {
              viewers,
              durationSec: options.durationSec,
              rampSec: options.rampSec,
              settleSec: options.settleSec,
              generators: options.generators,
              log,
            });
            const p = step.peer.load;
            log(
              `  peer: playlist behind the first p50 ${Math.round(p.playlist.p50 ?? NaN)} / p99 ${Math.round(p.playlist.p99 ?? NaN)} ms, ` +
                `${p.errorCount} errors of ${p.requests} requests, nginx ${median(step.peer.resources[NGINX]?.cpuPercent ?? [])?.toFixed(0)} % CPU`,
            );
          }
          run.steps.push(step);
          const l = step.load;
          log(
            `  playlist behind the first p50 ${Math.round(l.playlist.p50 ?? NaN)} / p99 ${Math.round(l.playlist.p99 ?? NaN)} ms, ` +
              `part p99 ${Math.round(l.part.p99 ?? NaN)} ms, ${l.errorCount} errors of ${l.requests} requests, ` +
              `${step.listenOverflows ?? '?'} accept queue overflows, ` +
              `service ${serviceCpu(step)?.toFixed(0)} % CPU, generator ${l.generatorCpu.toFixed(0)} %`,
          );
          if (step.egress?.reported === 0)
            log('  egress workers: not reported (each too busy to answer /metrics within a second)');
          else if (step.egress)
            log(
              `  egress workers: ${step.egress.connections} of the viewers' ${2 * viewers} connections, ` +
                `${step.egress.answers} answers, ${step.egress.handedOff} requests handed back ` +
                `(${Object.entries(step.egress.handedOffBy ?? {})
                  .map(([reason, n]) => `${reason} ${n}`)
                  .join(', ')})`,
            );
          if (step.edge)
            log(
              `  edge: ${step.edge.clientRequestsPerSec.toFixed(0)} requests/s from viewers, ` +
                `${step.edge.originRequestsPerSec.toFixed(1)} to the service, ` +
                `Varnish ${median(step.resources[EDGE]?.cpuPercent ?? [])?.toFixed(0)} % CPU`,
            );
          if (profiled && profileDir) {
            const profile = await readProfile(profileDir);
            if (profile) run.profile = { ...profile, viewers };
            else log('  the service wrote no profile');
          }
        }
    } catch (err) {
      run.failure = (err as Error).message;
      log(`stopped early: ${run.failure}`);
    }
    await mkdir(outDir, { recursive: true });
    if (run.profile) {
      const name = `service-${run.profile.viewers}-viewers.cpuprofile`;
      await copyFile(run.profile.file, join(outDir, name));
      run.profile.file = name;
    }
    await writeFile(join(outDir, 'samples.json'), JSON.stringify(run, null, 1) + '\n');
    await writeOutputs(outDir, run, teardown);
    log(`report: ${relative(process.cwd(), join(outDir, 'report.md'))}`);
    if (options.latest && !run.failure && (await copyToLatest(outDir, join(RESULTS, 'viewers-latest'))))
      log(`copied to ${relative(process.cwd(), join(RESULTS, 'viewers-latest'))}`);
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
    console.error(`[viewers] failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
