/**
 * The pictures outputs' figures (issue 14 item 6, part): the MJPEG decoder's CPU per camera with 1
 * and with 50 MJPEG viewers (the decoder runs once per camera, so the count of viewers should hardly
 * change it; the service's own CPU, which copies each JPEG to each viewer, is shown beside it), and
 * snapshot.jpg's latency while live. Our service and agent (test source), a real Mosquitto, every
 * viewer a fetch over loopback in this process, each phase bounded in time.
 *
 *   npm run bench:pictures [-- --seconds 20 --viewers 50 --snapshots 60 --no-build]   (--help: all options)
 *
 * Writes bench/results/pictures/report.md (and report.json).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { json, ROOT, startSystem, type System } from '../../test/helpers/system.js';
import { CHROMIUM_PATH } from '../../test/helpers/tools.js';
import { waitFor } from '../../test/helpers/wait.js';
import { buildOrHelpFlag, commandOf, scanArgs } from '../lib/args.js';
import { buildOrCheck } from '../lib/build.js';
import { machineInfo } from '../lib/machine.js';
import { childrenNamed, procStat } from '../lib/resources.js';
import { median, percentile } from '../lib/stats.js';
import { Teardown } from '../lib/teardown.js';
import { renderReport, type PicturesFigures, type ViewerPhase } from './report.js';

const CLK_TCK = 100;
const BOUNDARY = '--camstreamframe\r\n';

const USAGE = `npm run bench:pictures -- [options]

  --seconds <n>     seconds each MJPEG viewer phase is measured (default 20, at most 300)
  --viewers <n>     MJPEG viewers in the second phase, after one alone (default 50, at most 200)
  --snapshots <n>   snapshot.jpg requests timed while live (default 60, at most 1000)
  --fps <n>         the service's MJPEG_FPS (default 10, at most 60)
  --no-build        skip \`npm run build\` (dist/ must exist)
  --help            this text

Writes bench/results/pictures/report.md and report.json.`;

interface Options {
  seconds: number;
  viewers: number;
  snapshots: number;
  build: boolean;
  fps: number;
  help: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { seconds: 20, viewers: 50, snapshots: 60, build: true, fps: 10, help: false };
  scanArgs(argv, USAGE, (flag, read) => {
    /** A whole number from 1, capped at `max`. */
    const whole = (max: number): number => {
      const n = read.number(1);
      if (!Number.isInteger(n) || n > 10_000) throw new Error(`${flag} needs a whole number`);
      return Math.min(n, max);
    };
    switch (flag) {
      case '--seconds':
        options.seconds = whole(300);
        return true;
      case '--viewers':
        options.viewers = whole(200);
        return true;
      case '--snapshots':
        options.snapshots = whole(1000);
        return true;
      case '--fps':
        options.fps = whole(60);
        return true;
      default:
        return buildOrHelpFlag(flag, options);
    }
  });
  return options;
}

const log = (line: string) => console.log(`[bench:pictures] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The camera's MJPEG decoder: the service's ffmpeg child writing JPEGs at a frame rate. */
async function decoderPid(webPid: number): Promise<number | undefined> {
  for (const pid of await childrenNamed(webPid, 'ffmpeg')) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('fps=') && cmdline.includes('image2pipe')) return pid;
  }
  return undefined;
}

/** An MJPEG viewer reading until aborted: the JPEGs it got. */
function viewer(url: string, signal: AbortSignal): { pictures: () => number; done: Promise<void> } {
  let pictures = 0;
  const done = (async () => {
    const response = await fetch(url, { signal });
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      pictures += Buffer.from(value).toString('latin1').split(BOUNDARY).length - 1;
    }
  })().catch((err: unknown) => {
    if ((err as Error).name !== 'AbortError') throw err;
  });
  return { pictures: () => pictures, done };
}

async function measureViewers(system: System, count: number, options: Options): Promise<ViewerPhase> {
  const controller = new AbortController();
  const url = `${system.baseUrl}/api/cameras/cam1/stream.mjpg`;
  const viewers = Array.from({ length: count }, () => viewer(url, controller.signal));
  try {
    const webPid = system.web.proc.pid!;
    const decoder = await waitFor('the MJPEG decoder', () => decoderPid(webPid), { timeoutMs: 15_000 });
    await sleep(3000); // warm-up: every viewer connected, the decoder past its keyframe
    const [d0, w0, p0, t0] = [
      await procStat(decoder),
      await procStat(webPid),
      viewers.map((v) => v.pictures()),
      performance.now(),
    ];
    await sleep(options.seconds * 1000);
    const [d1, w1, p1, t1] = [
      await procStat(decoder),
      await procStat(webPid),
      viewers.map((v) => v.pictures()),
      performance.now(),
    ];
    if (!d0 || !d1 || !w0 || !w1) throw new Error('the decoder or the service went away while measured');
    const seconds = (t1 - t0) / 1000;
    const cpu = (a: number, b: number) => ((b - a) / CLK_TCK / seconds) * 100;
    const rates = p1.map((p, i) => (p - p0[i]!) / seconds);
    return {
      viewers: count,
      seconds,
      decoderCpu: cpu(d0.ticks, d1.ticks),
      serviceCpu: cpu(w0.ticks, w1.ticks),
      fpsMedian: median(rates) ?? 0,
      fpsMin: Math.min(...rates),
    };
  } finally {
    controller.abort();
    await Promise.all(viewers.map((v) => v.done));
  }
}

async function measureSnapshots(system: System, count: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(`${system.baseUrl}/api/cameras/cam1/snapshot.jpg`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`snapshot.jpg: ${response.status}`);
    ms.push(performance.now() - started);
    await sleep(250); // a new picture comes in between: each request decodes afresh
  }
  return ms;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  if (options.help) {
    console.log(USAGE);
    return;
  }
  buildOrCheck(ROOT, options.build, log);
  const teardown = new Teardown();
  const machine = machineInfo(ROOT, CHROMIUM_PATH, 'nginx');
  try {
    const system = await startSystem(teardown, {
      broker: 'mosquitto',
      webEnv: { WEBRTC: 'off', LOG_LEVEL: 'warn', MJPEG_FPS: String(options.fps) },
    });
    const start = await system.api('/api/stream/start', json());
    if (start.status !== 200) throw new Error(`start: ${start.status} ${JSON.stringify(start.body)}`);
    log(`snapshot latency, ${options.snapshots} requests while live`);
    const snapshots = await measureSnapshots(system, options.snapshots);
    const phases: ViewerPhase[] = [];
    for (const count of [1, options.viewers]) {
      log(`${count} MJPEG viewer(s) for ${options.seconds} s`);
      phases.push(await measureViewers(system, count, options));
      await sleep(6000); // the decoder outlives its last viewer by 5 s: the next phase starts it anew
    }
    await system.api('/api/stream/stop', json());
    const figures: PicturesFigures = {
      at: new Date().toISOString(),
      command: commandOf('bench:pictures', argv),
      machine,
      fps: options.fps,
      phases,
      snapshot: {
        requests: snapshots.length,
        medianMs: median(snapshots) ?? NaN,
        p95Ms: percentile(snapshots, 95) ?? NaN,
        maxMs: Math.max(...snapshots),
      },
    };
    const dir = join(ROOT, 'bench/results/pictures');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'report.json'), JSON.stringify(figures, null, 2) + '\n');
    await writeFile(join(dir, 'report.md'), renderReport(figures));
    log(`wrote ${join(dir, 'report.md')}`);
    console.log(renderReport(figures));
  } finally {
    await teardown.run();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
