/** report.md of `npm run bench:viewers`: the table, how the simulation compares with hls.js, the profile, the method. Pure. */
import type { MachineInfo } from '../lib/machine.js';
import { median } from '../lib/stats.js';
import type { ViewersOptions } from './options.js';
import { serviceCpu } from './plot.js';
import type { ProfileSummary } from './profile.js';
import { EDGE, NGINX, SERVICE, type ViewersStep } from './step.js';

export const PLOT_FILE = 'viewers.svg';
export const PLOT_PNG = 'viewers.png';

export interface ViewersRun {
  startedAt: string;
  command: string;
  options: ViewersOptions;
  machine: MachineInfo;
  steps: ViewersStep[];
  profile?: ProfileSummary & { viewers: number };
  failure?: string;
}

const ms = (v: number | undefined) => (v === undefined ? 'n/a' : String(Math.round(v)));
const fixed = (v: number | undefined, digits = 1) => (v === undefined ? 'n/a' : v.toFixed(digits));
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

/** The service's CPU above its idle level (camera live, no viewer) per 100 viewers. */
function cpuPer100(step: ViewersStep): number | undefined {
  const busy = serviceCpu(step);
  const idle = median(step.idle[SERVICE]?.cpuPercent ?? []);
  return busy === undefined || idle === undefined ? undefined : ((busy - idle) / step.viewers) * 100;
}

/** Whether the run had the service with egress workers (then the tables say how many). */
const withWorkers = (steps: ViewersStep[]) => steps.some((s) => (s.workers ?? 0) > 0);

function mainTable(steps: ViewersStep[]): string[] {
  const workers = withWorkers(steps);
  return [
    row([
      ...(workers ? ['HLS_WORKERS'] : []),
      'viewers',
      'playlist behind the first, p50 / p99 (ms)',
      'part behind the first, p50 / p99 (ms)',
      'errors',
      'accept queue overflows',
      workers ? 'service + workers CPU (% of a core)' : 'service CPU (% of a core)',
      'per 100 viewers',
      workers ? 'service + workers RSS (MiB)' : 'service RSS (MiB)',
      'received (MB/s)',
      'generator CPU / loop delay p99',
      'machine CPU',
      'load (1 min)',
      ...(workers ? ['viewer connections on the workers'] : []),
    ]),
    row(Array(workers ? 14 : 12).fill('---')),
    ...steps.map((s) => {
      const l = s.load;
      const errors =
        l.errorCount === 0
          ? '0'
          : `**${l.errorCount}** (${((l.errorCount / Math.max(1, l.requests)) * 100).toFixed(2)} %)`;
      return row([
        ...(workers ? [s.workers ?? 0] : []),
        s.viewers,
        `${ms(l.playlist.p50)} / **${ms(l.playlist.p99)}**`,
        `${ms(l.part.p50)} / **${ms(l.part.p99)}**`,
        errors,
        s.listenOverflows ?? '-',
        fixed(serviceCpu(s), 0),
        fixed(cpuPer100(s)),
        fixed(median(s.resources[SERVICE]?.rssMiB ?? []), 0),
        fixed(l.bytesPerSec / 1e6),
        `${fixed(l.generatorCpu, 0)} % / ${ms(l.generatorLoopDelayP99)} ms`,
        `${fixed(median(Object.entries(s.resources).find(([k]) => k.startsWith('whole machine'))?.[1].cpuPercent ?? []), 0)} %`,
        s.load1,
        ...(workers ? [egressCell(s)] : []),
      ]);
    }),
  ];
}

/** The workers' connections, or why there are none to show. */
function egressCell(s: ViewersStep): string {
  if (!s.egress) return '-';
  if (s.egress.reported === 0) return 'not reported (workers busy)';
  return `${s.egress.connections} of ${2 * s.viewers}`;
}

function peerTable(steps: ViewersStep[]): string[] {
  const withPeer = steps.filter((s) => s.peer);
  if (withPeer.length === 0) return ['The peer was not measured in this run (`--no-peer`).'];
  return [
    'nginx from Debian (one worker) serving the files of ffmpeg’s own HLS muxer (1-second MPEG-TS segments)',
    'to as many **polling** viewers (a plain player: the playlist every target duration, half of it when',
    'unchanged; each new segment once), right after ours in each step. A polling viewer learns of a segment up',
    'to a reload interval after the first one did: that, not the server, is what "behind the first" shows here.',
    '',
    row([
      'viewers',
      'playlist behind the first, p50 / p99 (ms)',
      'segment behind the first, p50 / p99 (ms)',
      'errors',
      'nginx CPU (% of a core)',
      'per 100 viewers',
      'received (MB/s)',
      'generator CPU',
    ]),
    row(Array(8).fill('---')),
    ...withPeer.map((s) => {
      const p = s.peer!;
      const cpu = median(p.resources[NGINX]?.cpuPercent ?? []);
      return row([
        s.viewers,
        `${ms(p.load.playlist.p50)} / ${ms(p.load.playlist.p99)}`,
        `${ms(p.load.part.p50)} / ${ms(p.load.part.p99)}`,
        p.load.errorCount,
        fixed(cpu, 0),
        fixed(cpu === undefined ? undefined : (cpu / s.viewers) * 100),
        fixed(p.load.bytesPerSec / 1e6),
        `${fixed(p.load.generatorCpu, 0)} %`,
      ]);
    }),
  ];
}

function honesty(steps: ViewersStep[]): string[] {
  const withBrowsers = steps.filter((s) => s.browsers);
  if (withBrowsers.length === 0)
    return ['No hls.js players ran beside the simulated viewers (`--browsers 0`).'];
  return [
    'Requests per viewer and second: the simulated viewers beside real hls.js players (our client in',
    'player-only mode, `?src=…&ll=1`, in Chromium) watching the same stream in the same window.',
    '',
    row([
      'viewers',
      'simulated: playlists / parts',
      'hls.js: playlists / parts',
      'hls.js: blocking, delta',
      'hls.js: frames decoded',
      'hls.js: behind live (s)',
      'hls.js: failed requests',
    ]),
    row(Array(7).fill('---')),
    ...withBrowsers.map((s) => {
      const b = s.browsers!;
      return row([
        s.viewers,
        `${fixed(s.load.playlistsPerViewerSec, 2)} / ${fixed(s.load.partsPerViewerSec, 2)}`,
        `${fixed(b.playlistsPerPlayerSec, 2)} / ${fixed(b.partsPerPlayerSec, 2)}`,
        `${Math.round(b.blockingShare * 100)} %, ${Math.round(b.deltaShare * 100)} %`,
        b.framesPerPlayer.join(', '),
        b.latencySec.map((v) => fixed(v, 2)).join(', '),
        b.failures,
      ]);
    }),
  ];
}

function profileSection(profile: ViewersRun['profile']): string[] {
  if (!profile)
    return ['The service was not profiled in this run (`--profile-at 0`, or it wrote no profile).'];
  return [
    `The service under V8's sampling profiler in the ${profile.viewers}-viewer step (the whole step: start-up,`,
    `ramp and window; the JS thread was busy ${profile.busyPercent.toFixed(0)} % of the samples). Self time, as a share`,
    `of the busy samples; the profile itself: \`${profile.file.split('/').at(-1)}\` beside this report.`,
    '',
    row(['function', 'where', 'self (% of busy)']),
    row(['---', '---', '---']),
    ...profile.top.map((e) => row([`\`${e.name}\``, e.where || '(V8, native)', e.selfPercent.toFixed(1)])),
  ];
}

/** With `--edge varnish`: what reached the service through the edge, and the edge's own CPU. */
function edgeSection(steps: ViewersStep[]): string[] {
  if (!steps.some((s) => s.edge)) return [];
  return [
    '## Through the edge',
    '',
    'The viewers (and the hls.js players) watched through Varnish with `infra/edge/varnish.vcl` in front of the',
    'service, on the same machine; "behind the first" above then includes what the edge adds.',
    '',
    row(['viewers', 'requests/s from viewers', 'requests/s to the service', 'Varnish CPU (% of a core)']),
    row(Array(4).fill('---')),
    ...steps.map((s) =>
      row([
        s.viewers,
        fixed(s.edge?.clientRequestsPerSec, 0),
        fixed(s.edge?.originRequestsPerSec),
        fixed(median(s.resources[EDGE]?.cpuPercent ?? []), 0),
      ]),
    ),
    '',
  ];
}

export function renderReport(run: ViewersRun): string {
  const o = run.options;
  const m = run.machine;
  return [
    '# Many viewers of one camera (LL-HLS)',
    '',
    `${run.startedAt}; \`${run.command}\`.`,
    '',
    ...(run.failure ? [`**The run stopped early: ${run.failure}**`, ''] : []),
    `> **The machine**: ${m.cores} cores (${m.cpu}), **shared**: the service, the load generator (${o.generators}`,
    `> processes), the camera's encoder, Mosquitto and ${o.browsers} Chromium player(s) all run on it (load average`,
    `> ${m.loadAverage.join(', ')} before the run). CPU is % of one core. Compare within a run, not across runs.`,
    '',
    ...mainTable(run.steps),
    '',
    ...edgeSection(run.steps),
    '## What was measured',
    '',
    `Steps of ${o.steps.join(', ')} viewers, each on a fresh web service (LL-HLS, parts of about 200 ms) and`,
    'Mosquitto, with one camera that is **not ours** (plain ffmpeg, 640x480 @ 30 fps, 2 Mbps, a keyframe a second,',
    `ffmpeg's mpegts muxer). The viewers arrive over ${o.rampSec} s, settle for ${o.settleSec} s, then ${o.durationSec} s are measured.`,
    '',
    '- **A simulated viewer** (`bench/viewers/viewer.ts`) does what hls.js does in low-latency mode: the playlist,',
    '  the init segment, the last three parts, then a blocking reload for the part after the last listed',
    '  (`_HLS_msn`, `_HLS_part`, with `_HLS_skip=YES` delta updates) while the preload-hinted part is fetched at',
    '  the same time, and every listed part it does not have. Two keep-alive connections per viewer.',
    '- **Behind the first**: for each playlist version (the last part it lists) and each part, when each viewer',
    '  had it, minus when the first viewer had it. The first viewer gets it as soon as the packager makes it;',
    '  the rest is what serving many costs. Versions first seen in the window’s first or last second are left out.',
    '- **Errors**: answers other than 200, connection errors and requests over 10 s, over all requests.',
    "  **Accept queue overflows**: connections the kernel dropped because a listening socket's queue was full",
    "  (TcpExtListenOverflows, the whole machine, from the viewers' arrival to the window's end); each is retried a second or more later.",
    `- **CPU and memory**: /proc, every second, medians over the window. "Per 100 viewers": the service's CPU above`,
    '  its level with the camera live and no viewer, per 100 viewers.',
    '- **The generator** shares the machine: its own CPU and event-loop delay are in the table. A generator whose',
    '  loop is late makes viewers look late: read the lateness beside it.',
    ...(withWorkers(run.steps)
      ? [
          `- **HLS_WORKERS** (\`--workers ${o.workers.join(',')}\`): each viewer count was measured once per value, back to`,
          '  back, each on a fresh service; with workers, the service’s CPU and memory include its egress processes',
          '  (README.md, "Scaling"), and the plot shows the first value’s steps only.',
        ]
      : []),
    '',
    '## The peer: nginx serving plain HLS',
    '',
    ...peerTable(run.steps),
    '',
    '## The simulation beside hls.js',
    '',
    ...honesty(run.steps),
    '',
    '## Where the service’s time goes',
    '',
    ...profileSection(run.profile),
    '',
    '## Versions',
    '',
    ...Object.entries(m.versions).map(([name, version]) => `- ${name}: ${version}`),
    '',
    `![viewers](${PLOT_PNG})`,
    '',
  ].join('\n');
}
