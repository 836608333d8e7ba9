/**
 * One step of `npm run bench:viewers`: a fresh web service (LL-HLS) and Mosquitto, one camera that
 * is not ours (plain ffmpeg, 2 Mbps) live, then `viewers` simulated low-latency viewers arriving over
 * the ramp, a few seconds to settle, and a window in which the service, the generator and the machine
 * are sampled from /proc while every viewer's arrivals are recorded. A few real hls.js players in
 * Chromium watch beside them (browsers.ts). With `profileDir`, the service runs under V8's profiler
 * (cpu-profile.mjs) and its profile is written when it stops. Everything it starts is stopped before it returns.
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { command, startFleet } from '../cameras/fleet.js';
import { childProcesses } from '../../test/helpers/processes.js';
import { startVarnish } from '../../test/helpers/varnish.js';
import { ResourceSampler, type ResourceSeries } from '../lib/resources.js';
import { Teardown } from '../lib/teardown.js';
import { watchWithHlsJs, type BrowserFigures } from './browsers.js';
import { LoadGenerator } from './load.js';
import { startStaticPeer } from './peer.js';
import { loadFigures, type LoadFigures } from './summary.js';

export const SERVICE = 'web service (Node)';
/** Preloaded into a profiled service: V8's profiler from start-up to exit. */
const PROFILE_HOOK = fileURLToPath(new URL('./cpu-profile.mjs', import.meta.url));
export const GENERATOR = 'load generator (bench)';
export const EDGE = 'edge (Varnish)';
/** The service's LL-HLS egress processes (HLS_WORKERS); the SERVICE figures include them. */
export const WORKERS = 'egress workers (HLS_WORKERS)';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ViewersStepOptions {
  viewers: number;
  durationSec: number;
  rampSec: number;
  settleSec: number;
  generators: number;
  browsers: number;
  /** Where the service writes its CPU profile (cpu-profile.mjs), when profiled. */
  profileDir?: string;
  /** The viewers (and hls.js players) watch through Varnish with infra/edge/varnish.vcl. */
  edge?: 'varnish';
  /** The service's HLS_WORKERS. */
  workers: number;
  log: (line: string) => void;
}

export interface ViewersStep {
  viewers: number;
  /** The service's HLS_WORKERS (absent in runs from before the option: 0). */
  workers?: number;
  load: LoadFigures;
  /** Sampled every second in the window: the service, the generator processes, the whole machine. */
  resources: Record<string, ResourceSeries>;
  /** The service with the camera live and no viewer. */
  idle: Record<string, ResourceSeries>;
  browsers?: BrowserFigures;
  /** The same number of plain HLS viewers of the peer, measured right after. */
  peer?: PeerStep;
  load1: number;
  profiled: boolean;
  errors: string[];
  /** With HLS_WORKERS: what the workers had at the window's end (their /metrics), all workers together. */
  /** Connections the kernel dropped from a full accept queue, from the viewers' arrival to the window's end (the whole machine). */
  listenOverflows?: number;
  /** `reported`: workers whose counters the service's /metrics gave (the rest were too busy). */
  egress?: {
    reported?: number;
    connections: number;
    answers: number;
    handedOff: number;
    handedOffBy?: Record<string, number>;
  };
  /** With an edge: the requests it sent the service per second in the window (and its CPU is in resources). */
  edge?: { name: 'varnish'; originRequestsPerSec: number; clientRequestsPerSec: number };
}

export async function runViewersStep(
  parent: Teardown,
  browser: BrowserContext | undefined,
  options: ViewersStepOptions,
): Promise<ViewersStep> {
  const { viewers, log } = options;
  const teardown = new Teardown();
  parent.add(() => teardown.run(), `the ${viewers}-viewer step`);
  const errors: string[] = [];
  try {
    const env: Record<string, string> = { LOG_LEVEL: 'warn', HLS_WORKERS: String(options.workers) };
    if (options.profileDir) {
      env.NODE_OPTIONS = `--import ${pathToFileURL(PROFILE_HOOK).href}`;
      env.CAMSTREAM_PROFILE_DIR = options.profileDir;
    }
    const fleet = await startFleet(teardown, 1, undefined, env);
    const started = await command(fleet, 'cam1', 'start');
    if (!started.ok) throw new Error(`the camera did not start: ${started.error}`);
    const webPid = fleet.system.web.proc.pid!;
    // The service and its egress workers: their CPU and memory are the service's.
    const servicePids = async () => [webPid, ...(await egressPids(webPid))];
    const edge =
      options.edge === 'varnish'
        ? await startVarnish(teardown, Number(new URL(fleet.system.baseUrl).port))
        : undefined;
    const playlistUrl = `${edge?.baseUrl ?? fleet.system.baseUrl}${fleet.routes.playlist('cam1')}`;

    // The service's level with the camera live and nobody watching, once the start has settled.
    await sleep(2000);
    const idleSampler = new ResourceSampler({ [SERVICE]: servicePids });
    await sleep(3000);
    const idle = idleSampler.stop();

    const overflowsBefore = await listenOverflows();
    const generator = await LoadGenerator.start(teardown, options.generators);
    log(
      `  ${viewers} viewers arriving over ${options.rampSec} s (${options.generators} generator processes)`,
    );
    generator.add(playlistUrl, viewers, options.rampSec * 1000);
    const players =
      browser && options.browsers > 0
        ? await watchWithHlsJs(browser, playlistUrl, options.browsers)
        : undefined;
    await sleep((options.rampSec + options.settleSec) * 1000);

    log(`  sampling for ${options.durationSec} s`);
    const load1 = Math.round(loadavg()[0]! * 100) / 100;
    generator.mark();
    await players?.mark();
    const sampler = new ResourceSampler({
      [SERVICE]: servicePids,
      ...(options.workers > 0 && { [WORKERS]: async () => egressPids(webPid) }),
      [GENERATOR]: async () => generator.pids,
      ...(edge && { [EDGE]: async () => [edge.pid, ...(await childProcesses(edge.pid))] }),
    });
    const edgeBefore = await edge?.counters();
    const windowBegan = performance.now();
    await sleep(options.durationSec * 1000);
    const edgeAfter = await edge?.counters();
    const windowSec = (performance.now() - windowBegan) / 1000;
    const overflowsAfter = await listenOverflows();
    const egress =
      options.workers > 0 ? await egressFigures(fleet.system.baseUrl, options.workers) : undefined;
    const windows = await generator.collect();
    const resources = sampler.stop();
    const browserFigures = await players?.collect();
    await players?.close();
    await generator.stop();
    if (fleet.system.web.proc.exitCode !== null) errors.push('the web service exited');
    const load = loadFigures(windows);
    return {
      viewers,
      workers: options.workers,
      ...(egress && { egress }),
      load,
      resources,
      idle,
      ...(browserFigures && { browsers: browserFigures }),
      load1,
      ...(overflowsBefore !== undefined &&
        overflowsAfter !== undefined && { listenOverflows: overflowsAfter - overflowsBefore }),
      profiled: options.profileDir !== undefined,
      errors,
      ...(edgeBefore &&
        edgeAfter && {
          edge: {
            name: 'varnish' as const,
            originRequestsPerSec: perSecond(edgeBefore, edgeAfter, 'MAIN.backend_req', windowSec),
            // Not MAIN.client_req: Varnish 7.1 (Debian 12) counts a request again each time it leaves the
            // waiting list (varnish-cache PR 3841, fixed in 7.2), which doubled it here. Each answered
            // request is one hit, miss or pass.
            clientRequestsPerSec: ANSWERED.reduce(
              (total, counter) => total + perSecond(edgeBefore, edgeAfter, counter, windowSec),
              0,
            ),
          },
        }),
    };
  } finally {
    log(`  stopping the ${viewers}-viewer step`);
    await teardown.run();
  }
}

/** Varnish's counters that together count each answered client request once (hit-for-pass is in s_pass). */
const ANSWERED = ['MAIN.cache_hit', 'MAIN.cache_miss', 'MAIN.s_pass', 'MAIN.s_pipe', 'MAIN.s_synth'];

/**
 * The kernel's count of connections dropped because a listening socket's accept queue was full
 * (TcpExtListenOverflows, the whole machine): each is a viewer's connection retried a second or
 * more later. Undefined where /proc/net/netstat does not say.
 */
async function listenOverflows(): Promise<number | undefined> {
  const lines = (await readFile('/proc/net/netstat', 'utf8').catch(() => ''))
    .split('\n')
    .filter((line) => line.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const at = names.indexOf('ListenOverflows');
  return at > 0 && values[at] !== undefined ? Number(values[at]) : undefined;
}

/** The service's Node children: its egress workers (its ffmpeg remuxers are not node). */
async function egressPids(webPid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await childProcesses(webPid)) {
    const name = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (name.trim() === 'node') pids.push(pid);
  }
  return pids;
}

/**
 * The egress workers' gauges from the service's /metrics (loopback), summed. A worker too busy to
 * answer within the scrape's second is left out of it (egress/workers.ts): asked again, a few times,
 * until every worker is in, or the step would say its workers had no connections.
 */
async function egressFigures(baseUrl: string, workers: number): Promise<ViewersStep['egress']> {
  let text = '';
  let reported = 0;
  for (let attempt = 0; attempt < 5 && reported < workers; attempt += 1) {
    text = await (await fetch(`${baseUrl}/metrics`)).text();
    reported = text.split('\n').filter((line) => line.startsWith('camstream_egress_connections{')).length;
  }
  const sum = (name: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`))
      .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
  const handedOffBy: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const reason = /^camstream_egress_handed_off\{.*reason="([^"]+)"/.exec(line)?.[1];
    if (reason) handedOffBy[reason] = (handedOffBy[reason] ?? 0) + Number(line.split(' ').at(-1));
  }
  return {
    reported,
    connections: sum('camstream_egress_connections'),
    answers: sum('camstream_egress_answers'),
    handedOff: sum('camstream_egress_handed_off'),
    handedOffBy,
  };
}

const perSecond = (
  before: Record<string, number>,
  after: Record<string, number>,
  counter: string,
  seconds: number,
) => ((after[counter] ?? NaN) - (before[counter] ?? NaN)) / seconds;

export const NGINX = 'nginx (peer)';

export interface PeerStep {
  viewers: number;
  load: LoadFigures;
  resources: Record<string, ResourceSeries>;
  encoder: string;
  load1: number;
}

/** The same number of plain HLS viewers polling nginx, which serves ffmpeg's files (peer.ts). */
export async function runPeerStep(
  parent: Teardown,
  options: Omit<ViewersStepOptions, 'browsers' | 'profileDir' | 'workers'>,
): Promise<PeerStep> {
  const { viewers, log } = options;
  const teardown = new Teardown();
  parent.add(() => teardown.run(), `the peer's ${viewers}-viewer step`);
  try {
    const peer = await startStaticPeer(teardown);
    const generator = await LoadGenerator.start(teardown, options.generators);
    log(`  peer: ${viewers} polling viewers of nginx arriving over ${options.rampSec} s`);
    generator.add(peer.playlistUrl, viewers, options.rampSec * 1000, true);
    await sleep((options.rampSec + options.settleSec) * 1000);
    const load1 = Math.round(loadavg()[0]! * 100) / 100;
    generator.mark();
    const sampler = new ResourceSampler({
      [NGINX]: async () => [peer.nginxPid],
      [GENERATOR]: async () => generator.pids,
    });
    await sleep(options.durationSec * 1000);
    const windows = await generator.collect();
    const resources = sampler.stop();
    await generator.stop();
    return { viewers, load: loadFigures(windows), resources, encoder: peer.encoder, load1 };
  } finally {
    await teardown.run();
  }
}
