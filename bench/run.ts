/**
 * `npm run bench`: glass-to-glass latency, time to first frame and time until the picture settles,
 * of ours (fed by our agent and by a camera that is not ours) and of a peer (nginx-rtmp tuned to
 * 1-second fragments), side by side, with the resources each uses. Writes report.md, latency.svg
 * (+ .png) and samples.json to the output folder. See bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser } from './lib/browser.js';
import { startSystem } from '../test/helpers/system.js';
import { CHROMIUM_PATH } from '../test/helpers/tools.js';
import { commandOf, parseArgs, USAGE, type BenchOptions } from './lib/args.js';
import { buildOrCheck } from './lib/build.js';
import { publish, RESULTS, timeStamp } from './lib/latest.js';
import { machineInfo, type MachineInfo } from './lib/machine.js';
import { median } from './lib/stats.js';
import { Teardown } from './lib/teardown.js';
import { SYSTEM_NAMES, type SystemName, type SystemRun } from './lib/types.js';
import { renderReport } from './report/markdown.js';
import { svgToPng } from './report/png.js';
import { lineChart } from './report/svg.js';
import { findRtmpModule, NGINX_PATH } from './peer/nginx.js';
import type { BenchContext } from './systems/common.js';
import { OURS_VARIANTS, runOurs, type OursName } from './systems/ours.js';
import { runPeer } from './systems/peer.js';
import { runWebrtc } from './webrtc/run.js';
import { webrtcChart, webrtcSection } from './webrtc/report.js';
import type { WebrtcRun, WebrtcSystemName } from './webrtc/types.js';
import { JANUS_PATH } from './webrtc/janus.js';

const ROOT = resolve(import.meta.dirname, '..');
const log = (line: string) => console.log(`[bench] ${line}`);

function checkTools(options: BenchOptions): void {
  const missing: string[] = [];
  const has = (tool: string) =>
    spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
  if (!has('ffmpeg')) missing.push('ffmpeg');
  if (!existsSync(CHROMIUM_PATH)) missing.push('chromium');
  if (options.systems.includes('peer')) {
    if (!existsSync(NGINX_PATH) && !has('nginx')) missing.push('nginx');
    try {
      findRtmpModule();
    } catch {
      missing.push('libnginx-mod-rtmp');
    }
  }
  if (options.webrtc.includes('janus') && !existsSync(JANUS_PATH)) missing.push('janus');
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: apt-get install -y ${[...new Set(missing)].join(' ')}`);
  }
}

const STEP_TIMEOUT = 20_000;

/** Upper bound for the whole run: steps are bounded on their own; this catches anything else. */
function timeLimitMs(options: BenchOptions): number {
  const perSystem =
    options.durationSec * 1000 + options.coldStarts * (2 * 30_000 + options.settleWindowSec * 1000) + 90_000;
  const perWebrtc = options.durationSec * 1000 + options.coldStarts * (STEP_TIMEOUT + 3_000) + 120_000;
  return perSystem * options.systems.length + perWebrtc * options.webrtc.length + 60_000;
}

function chart(runs: SystemRun[]): string {
  const colors: Record<SystemName, string> = {
    ours: '#1f5fbf',
    'ours-foreign': '#8a3fb8',
    'ours-plain': '#2a8f6a',
    peer: '#d9731a',
  };
  const joinedColors: Record<SystemName, string> = {
    ours: '#7aa7e8',
    'ours-foreign': '#c39be0',
    'ours-plain': '#86cfa9',
    peer: '#eeaa66',
  };
  const name = (run: SystemRun) =>
    run.system === 'peer'
      ? 'peer (nginx-rtmp, 1 s fragments)'
      : `ours (camstream), ${run.hlsMode === 'll' ? 'LL-HLS' : 'plain HLS'}` +
        (run.camera === 'foreign' ? ', foreign camera' : '');
  const medianOf = (samples: { latencyMs: number }[]) =>
    Math.round(median(samples.map((s) => s.latencyMs)) ?? NaN);
  const pointsOf = (run: SystemRun, samples: { at: number; latencyMs: number }[]) =>
    samples.map((s) => ({ x: (s.at - run.steady.firstFrameAt) / 1000, y: s.latencyMs }));
  return lineChart(
    runs.flatMap((run) => {
      const joiner = run.steady.lateJoiner;
      return [
        {
          label: `${name(run)}, viewer there from the start: median ${medianOf(run.steady.samples)} ms`,
          color: colors[run.system],
          points: pointsOf(run, run.steady.samples),
        },
        ...(joiner
          ? [
              {
                label: `${name(run)}, viewer who joined at ${((joiner.joinAt - run.steady.firstFrameAt) / 1000).toFixed(1)} s: median ${medianOf(joiner.samples)} ms`,
                color: joinedColors[run.system],
                dash: '7 4',
                points: pointsOf(run, joiner.samples),
              },
            ]
          : []),
      ];
    }),
    {
      title: 'Glass-to-glass latency, one point per displayed frame',
      subtitle:
        '640x480 @ 30 fps, 2 Mbps, 1 s GOP, loopback; Chromium + hls.js; dashed: a second viewer opening the live stream; a gap is a stall',
      xLabel: 'seconds since the first viewer’s first frame',
      yLabel: 'glass-to-glass latency (ms)',
      references: [
        { y: 900, label: 'target: ≤ 0.9 s median (LL-HLS)' },
        { y: 2000, label: 'target: ≤ 2.0 s median (plain HLS)' },
      ],
    },
  );
}

/** What samples.json holds: everything the report is made from. */
interface SavedRun {
  startedAt: string;
  command: string;
  options: BenchOptions;
  machine: MachineInfo;
  runs: Partial<Record<SystemName, SystemRun>>;
  /** The WebRTC systems (older results: none). */
  webrtc?: Partial<Record<WebrtcSystemName, WebrtcRun>>;
}

/** report.md, latency.svg and latency.png (drawn by Chromium) in `outDir`. */
async function writeReport(outDir: string, saved: SavedRun, browser: BrowserContext): Promise<void> {
  const webrtc = Object.values(saved.webrtc ?? {});
  const hls = SYSTEM_NAMES.some((name) => saved.runs[name]);
  const report =
    (hls
      ? renderReport({
          runs: saved.runs,
          machine: saved.machine,
          command: saved.command,
          startedAt: new Date(saved.startedAt),
          durationSec: saved.options.durationSec,
          coldStarts: saved.options.coldStarts,
        })
      : `# Benchmark\n\n\`${saved.command}\`\n`) +
    (webrtc.length > 0 ? webrtcSection(saved.webrtc ?? {}) : '');
  await writeFile(join(outDir, 'report.md'), report);
  if (hls) {
    const svg = chart(SYSTEM_NAMES.flatMap((name) => saved.runs[name] ?? []));
    await writeFile(join(outDir, 'latency.svg'), svg);
    await svgToPng(browser, svg, join(outDir, 'latency.png'));
  }
  if (webrtc.length > 0) {
    const svg = webrtcChart(webrtc);
    await writeFile(join(outDir, 'webrtc.svg'), svg);
    await svgToPng(browser, svg, join(outDir, 'webrtc.png'));
  }
}

async function rerender(dir: string): Promise<number> {
  const saved = JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8')) as SavedRun;
  const teardown = new Teardown();
  try {
    await writeReport(dir, saved, await launchBrowser(teardown));
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
  checkTools(options);
  // Before the build, which loads the machine itself.
  const machine = machineInfo(ROOT, CHROMIUM_PATH, NGINX_PATH);
  log(`load average ${machine.loadAverage.join(', ')} (1, 5, 15 min) on ${machine.cores} cores`);
  buildOrCheck(ROOT, options.build, log);
  const startedAt = new Date();
  const outDir = resolve(options.out ?? join(RESULTS, timeStamp(startedAt)));
  const teardown = new Teardown();
  const unguard = teardown.guard(timeLimitMs(options));
  try {
    const workDir = await mkdtemp(join(tmpdir(), 'camstream-bench-'));
    teardown.add(() => rm(workDir, { recursive: true, force: true }), 'the work folder');
    log('launching Chromium');
    const browser = await launchBrowser(teardown);
    const joinerBrowser = await launchBrowser(teardown);
    const ctx: BenchContext = { options, teardown, browser, joinerBrowser, workDir, log };

    const runs: Partial<Record<SystemName, SystemRun>> = {};
    let nginxConfig: string | undefined;
    let system;
    let segmenterInput;
    for (const name of Object.keys(OURS_VARIANTS) as OursName[]) {
      if (!options.systems.includes(name)) continue;
      const ours = await runOurs(ctx, name);
      runs[ours.run.system] = ours.run;
      // Ours stops here: its camera goes; the service stays (idle) to serve the player page.
      await ours.stopCamera();
      system ??= ours.system;
      // The peer reads its input as the service's default (LL-HLS) does when that was measured.
      segmenterInput ??= ours.segmenterInput;
    }
    if (options.systems.includes('peer')) {
      system ??= await startSystem(teardown, { broker: 'embedded', agent: false });
      const peer = await runPeer(ctx, system, segmenterInput);
      runs.peer = peer.run;
      nginxConfig = peer.nginxConfig;
    }
    const webrtc =
      options.webrtc.length > 0
        ? await runWebrtc(ctx, { systems: options.webrtc, viewers: options.viewers })
        : undefined;

    await mkdir(outDir, { recursive: true });
    const saved: SavedRun = {
      startedAt: startedAt.toISOString(),
      command: commandOf('bench', argv),
      options,
      machine,
      runs,
      ...(webrtc && { webrtc }),
    };
    await writeFile(join(outDir, 'samples.json'), JSON.stringify(saved, null, 1) + '\n');
    if (nginxConfig) await writeFile(join(outDir, 'peer-nginx.conf'), nginxConfig);
    await writeReport(outDir, saved, browser);

    await publish(outDir, 'latest', options.latest, log);
    return 0;
  } finally {
    log('stopping everything');
    await teardown.run();
    unguard();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[bench] failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
