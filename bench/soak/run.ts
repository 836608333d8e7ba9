/**
 * `npm run bench:soak`: one LL-HLS stream with one viewer for a bounded time (30 minutes by default),
 * sampling memory, file descriptors, disk use and latency every few seconds, then a verdict per
 * series: flat or not. Writes report.md, soak.svg (+ .png) and samples.json. See bench/README.md.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { STREAM_PLAYLIST_NAME } from '@camstream/protocol';
import { startSystem } from '../../test/helpers/system.js';
import { runBench, type WriteContext } from '../lib/main.js';
import { median } from '../lib/stats.js';
import { STEP_TIMEOUT_MS, VIDEO_ENV } from '../systems/common.js';
import { duration } from './format.js';
import { parseArgs, USAGE, warmupOf, type SoakOptions } from './options.js';
import { soakPlot } from './plot.js';
import { folderUsage, mediaCacheControl, serviceMetrics } from './probes.js';
import { PLOT_FILE, renderReport } from './report.js';
import { Sampler } from './sampler.js';
import { judgeAll } from './series.js';
import type { SoakRun } from './types.js';
import { Viewer } from './viewer.js';

/** Upper bound for the whole run: start-up and the report take well under three minutes. */
const timeLimitMs = (options: SoakOptions) => options.durationSec * 1000 + 180_000;

async function writeOutputs(dir: string, run: SoakRun, ctx: WriteContext): Promise<void> {
  const svg = soakPlot(judgeAll(run), {
    title: `Soak: one LL-HLS stream, one viewer, ${duration(run.options.durationSec)}`,
    subtitle: `${run.startedAt}; a sample every ${run.options.intervalSec} s; x: time since the viewer’s first frame`,
    durationSec: run.options.durationSec,
    warmupSec: run.warmupSec,
  });
  await writeFile(join(dir, 'report.md'), renderReport(run));
  await ctx.plot(dir, PLOT_FILE, svg);
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

runBench<SoakOptions, SoakRun>({
  name: 'soak',
  usage: USAGE,
  parse: parseArgs,
  tools: { commands: ['ffmpeg'], chromium: true },
  versions: ['ffmpeg', 'Node', 'Chromium', 'hls.js', 'playwright-core'],
  timeLimitMs,
  outDir: (stamp) => join('soak', stamp),
  // TMPDIR of every process it starts (and of this one, which makes HLS_DIR and the Chromium profile
  // there): its disk figures are the run's alone, whatever else the machine's /tmp holds.
  tmpdir: true,
  write: writeOutputs,
  async measure({ options, command, machine, startedAt, teardown, log, ...ctx }) {
    const tempRoot = ctx.tempRoot!; // tmpdir: true
    log('starting the web service (HLS_MODE=ll, embedded broker) and the agent (stamped test source)');
    const system = await startSystem(teardown, {
      broker: 'embedded',
      webEnv: { LOG_LEVEL: 'info', HLS_MODE: 'll' },
      agentEnv: { ...VIDEO_ENV, LOG_LEVEL: 'info' },
    });
    const { hlsMode } = (await system.api('/api/stream')).body as { hlsMode?: string };
    if (hlsMode !== 'll') throw new Error(`the service says hlsMode ${hlsMode}, not ll`);
    log('launching Chromium');
    const browser = await ctx.browser();
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
      command,
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
    return run;
  },
});
