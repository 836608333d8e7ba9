/** report.md of `npm run bench:cameras`: the figures per step, the ratios to one camera, each camera, the run. Pure. */
import { machineTable, ms, table } from '../report/format.js';
import { median, percentile } from '../lib/stats.js';
import {
  groupSteps,
  ratios,
  stepFigures,
  windowCpu,
  type StartFigures,
  type StepFigures,
} from './summary.js';
import { segmenterRole, type CamerasRun, type StepRun } from './types.js';

export const PLOT_FILE = 'cameras.svg';

const pct = (v: number | undefined, digits = 1) => (v === undefined ? 'n/a' : `${v.toFixed(digits)} %`);
const mib = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(1)} MiB`);
const times = (v: number | undefined) => (v === undefined ? 'n/a' : `× ${v.toFixed(2)}`);
const start = (s: StartFigures) =>
  s.median === undefined
    ? `n/a (${s.failed} failed)`
    : `${ms(s.median)} (p95 ${ms(s.p95)})${s.failed > 0 ? `, ${s.failed} of ${s.count} failed` : ''}`;

/** The one-line verdict for the largest step against one camera. */
function headline(figures: StepFigures[]): string[] {
  const base = figures[0]!;
  const top = figures.at(-1)!;
  const r = ratios(top, base);
  const errors = figures.reduce((sum, f) => sum + f.errors.total, 0);
  return [
    `**${top.cameras} cameras on one service**: its CPU ${pct(top.serviceCpu)} of one core ` +
      `(${pct(top.serviceCpuPerCamera)} per camera; one camera alone: ${pct(base.serviceCpu)}), ` +
      `its memory ${mib(top.serviceRss)} (one camera: ${mib(base.serviceRss)}; ` +
      `${mib(r.rssPerAddedCamera)} per added camera); each camera's segmenter ${pct(top.segmenterCpuPerCamera, 2)} ` +
      `of one core and ${mib(top.segmenterRssPerCamera)} RSS (${mib(top.segmenterPrivatePerCamera)} of its own). A start takes ${ms(top.alone.median)} one at a time and ` +
      `${ms(top.together.median)} all together (one camera: ${ms(base.alone.median)}); of that, the service's part ` +
      `(the camera's first frame → playable) is ${ms(top.alone.serviceMedian)} and ${ms(top.together.serviceMedian)} ` +
      `(one camera: ${ms(base.alone.serviceMedian)}), the rest the cameras' own start. ` +
      (errors === 0
        ? 'Every camera’s playlist advanced part by part the whole time; no errors.'
        : `**${errors} errors** (below).`),
  ];
}

function stepTable(figures: StepFigures[]): string {
  const col = (f: (s: StepFigures) => string) => figures.map(f);
  return table(
    ['', ...figures.map((f) => `${f.cameras} camera${f.cameras === 1 ? '' : 's'}`)],
    [
      ['start → 200 live, one at a time: median (p95)', ...col((f) => start(f.alone))],
      ['start → 200 live, all together: median (p95)', ...col((f) => start(f.together))],
      [
        '… of which the camera (request → its first frame), alone / together',
        ...col((f) => `${ms(f.alone.cameraMedian)} / ${ms(f.together.cameraMedian)}`),
      ],
      [
        '… … of which the command reaching the camera (request → its `starting` status), alone / together',
        ...col((f) => `${ms(f.alone.commandMedian)} / ${ms(f.together.commandMedian)}`),
      ],
      [
        '… of which the service (first frame → playable), alone / together',
        ...col((f) => `${ms(f.alone.serviceMedian)} / ${ms(f.together.serviceMedian)}`),
      ],
      ['service CPU (% of one core)', ...col((f) => pct(f.serviceCpu))],
      ['service CPU per camera', ...col((f) => pct(f.serviceCpuPerCamera))],
      ['service RSS', ...col((f) => mib(f.serviceRss))],
      ['service RSS per camera', ...col((f) => mib(f.serviceRssPerCamera))],
      ['service private memory (USS, at the window’s end)', ...col((f) => mib(f.servicePrivate))],
      ['service RSS idle, every camera known, none started', ...col((f) => mib(f.idleServiceRss))],
      [
        'segmenter (ffmpeg) CPU per camera (CPU time ÷ window)',
        ...col((f) => pct(f.segmenterCpuPerCamera, 2)),
      ],
      ['segmenter RSS per camera', ...col((f) => mib(f.segmenterRssPerCamera))],
      [
        'segmenter private memory per camera (USS: without the libraries it shares)',
        ...col((f) => mib(f.segmenterPrivatePerCamera)),
      ],
      ['service + its segmenters: CPU', ...col((f) => pct(sum(f.serviceCpu, f.segmentersCpu)))],
      [
        'service + its segmenters: RSS (shared pages counted once per process)',
        ...col((f) => mib(sum(f.serviceRss, f.segmentersRss))),
      ],
      [
        'service + its segmenters: private memory (what one more camera adds is in here)',
        ...col((f) => mib(sum(f.servicePrivate, f.segmentersPrivate))),
      ],
      ['the cameras’ encoders (the bench’s, same machine): CPU', ...col((f) => pct(f.encodersCpu))],
      ['whole machine CPU (200 % = both cores)', ...col((f) => pct(f.machineCpu))],
      [
        'parts seen per second per camera (blocking reloads)',
        ...col((f) => f.partsPerSecond?.toFixed(2) ?? 'n/a'),
      ],
      ['longest wait for the next part, any camera', ...col((f) => ms(f.longestGapMs))],
      [
        'errors: starts / playlist reloads / segmenter restarts / other',
        ...col((f) => {
          const e = f.errors;
          const text = `${e.starts} / ${e.playlist} / ${e.restarts} / ${e.other}`;
          return e.total > 0 ? `**${text}**` : text;
        }),
      ],
    ],
  );
}

const sum = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a + b;

function ratioTable(figures: StepFigures[]): string {
  const base = figures[0]!;
  const rest = figures.slice(1);
  const rs = rest.map((f) => ratios(f, base));
  return table(
    ['vs 1 camera', ...rest.map((f) => `${f.cameras} cameras`)],
    [
      ['service CPU, total', ...rs.map((r) => times(r.serviceCpu))],
      ['service CPU per camera', ...rs.map((r) => times(r.serviceCpuPerCamera))],
      ['service RSS, total', ...rs.map((r) => times(r.serviceRss))],
      ['service RSS per camera', ...rs.map((r) => times(r.serviceRssPerCamera))],
      ['service RSS per added camera', ...rs.map((r) => mib(r.rssPerAddedCamera))],
      ['segmenter CPU per camera', ...rs.map((r) => times(r.segmenterCpuPerCamera))],
      ['start, one at a time (median)', ...rs.map((r) => times(r.startAlone))],
      ['start, all together (median)', ...rs.map((r) => times(r.startTogether))],
    ],
  );
}

function cameraTable(step: StepRun): string {
  const { resources, durationSec } = step.window;
  return table(
    [
      'camera',
      'start, one at a time',
      'start, together',
      'segmenter CPU',
      'segmenter RSS',
      'parts/s',
      'longest wait',
      'reload errors',
    ],
    step.cameraIds.map((id) => {
      const startsOf = (mode: string) =>
        step.starts.filter((s) => s.cameraId === id && s.mode === mode && s.ok).map((s) => s.ms);
      const check = step.playlists.find((p) => p.cameraId === id);
      const segmenter = resources[segmenterRole(id)];
      return [
        id,
        ms(median(startsOf('alone'))),
        ms(median(startsOf('together'))),
        pct(windowCpu(segmenter), 2),
        mib(median(segmenter?.rssMiB ?? [])),
        check ? (check.advances / durationSec).toFixed(2) : 'n/a',
        ms(check?.longestGapMs),
        String(check?.errors ?? 'n/a'),
      ];
    }),
  );
}

function errorLines(run: CamerasRun): string[] {
  const lines = run.steps.flatMap((step) => [
    ...step.errors.map((e) => `- ${step.cameras} cameras: ${e}`),
    ...step.playlists
      .filter((p) => p.errors > 0)
      .map(
        (p) =>
          `- ${step.cameras} cameras, ${p.cameraId}: ${p.errors} failed reloads (${p.errorMessages.join('; ')})`,
      ),
    ...(step.segmenterRestartsInWindow > 0
      ? [
          `- ${step.cameras} cameras: ${step.segmenterRestartsInWindow} segmenter(s) restarted during the window`,
        ]
      : []),
  ]);
  return lines.length > 0
    ? lines
    : ['None: every start answered 200 live, every reload a newer part, no segmenter restarted.'];
}

/** One camera on the baseline service (before many cameras) beside one camera on ours, same run. */
function baselineSection(run: CamerasRun): string[] {
  const { ours: groups, baseline } = groupSteps(run.steps);
  const ours = groups.find((s) => s.cameras === 1);
  if (!baseline || !ours) return [];
  const pairs = run.steps.filter((s) => s.baseline).length;
  const [b, o] = [stepFigures(baseline), stepFigures(ours)];
  const name = run.options.baselineName ?? run.options.baseline ?? 'baseline';
  const row = (
    label: string,
    f: (s: StepFigures) => number | undefined,
    show: (v: number | undefined) => string,
  ) => {
    const [vb, vo] = [f(b), f(o)];
    return [
      label,
      show(vb),
      show(vo),
      vb === undefined || vo === undefined || vb === 0 ? 'n/a' : times(vo / vb),
    ];
  };
  return [
    '## One camera: before many cameras, and now',
    '',
    `The same measurement with one camera on the service from before many cameras (${name}; its routes:`,
    `\`${baseline.routes ?? 'n/a'}\`) and on ours (\`${ours.routes ?? 'n/a'}\`), taking turns ${pairs} time(s) on the same`,
    'machine (baseline, ours, baseline, ours…); each figure over all the turns together (medians of every start and',
    'every 1-second sample; the private memory, the median of the turns’).',
    '',
    table(
      ['one camera', 'before', 'now', 'now ÷ before'],
      [
        row('start → 200 live, one at a time (median)', (f) => f.alone.median, ms),
        row('start → 200 live, again (the "together" rounds)', (f) => f.together.median, ms),
        row('… the camera’s part (request → its first frame)', (f) => f.alone.cameraMedian, ms),
        row(
          '… … of which the command reaching it (request → its `starting` status)',
          (f) => f.alone.commandMedian,
          ms,
        ),
        row('… the service’s part (first frame → playable)', (f) => f.alone.serviceMedian, ms),
        row(
          'service CPU (% of one core; median of 1-second samples)',
          (f) => f.serviceCpu,
          (v) => pct(v),
        ),
        row(
          'service CPU (its CPU time ÷ the windows)',
          (f) => f.serviceCpuTime,
          (v) => pct(v, 2),
        ),
        row('service RSS', (f) => f.serviceRss, mib),
        row('service private memory (USS)', (f) => f.servicePrivate, mib),
        row('service RSS idle, the camera known', (f) => f.idleServiceRss, mib),
        row(
          'segmenter CPU (CPU time ÷ window)',
          (f) => f.segmenterCpuPerCamera,
          (v) => pct(v, 2),
        ),
        row('segmenter RSS', (f) => f.segmenterRssPerCamera, mib),
        row(
          'parts seen per second',
          (f) => f.partsPerSecond,
          (v) => v?.toFixed(2) ?? 'n/a',
        ),
        row('longest wait for the next part', (f) => f.longestGapMs, ms),
        row(
          'errors',
          (f) => f.errors.total,
          (v) => String(v ?? 'n/a'),
        ),
      ],
    ),
    '',
  ];
}

export function renderReport(run: CamerasRun): string {
  const figures = groupSteps(run.steps).ours.map(stepFigures);
  const o = run.options;
  const stopMs = run.steps.flatMap((s) => s.stops.map((t) => t.ms));
  return [
    `# Many cameras on one service`,
    '',
    `${run.startedAt}; \`${run.command}\`.`,
    '',
    ...(run.failure ? [`**The run stopped early: ${run.failure}**`, ''] : []),
    ...(figures.length > 0 ? [...headline(figures), ''] : []),
    `> **The machine**: ${run.machine.cores} cores (${run.machine.cpu}), **shared** with other work (load average`,
    `> ${run.machine.loadAverage.join(', ')} before the run; whole-machine CPU in the table), and the cameras' own`,
    `> encoders (libx264, one per camera) run on it too. CPU figures are % of one core (200 % = the whole machine):`,
    `> read them as upper bounds on a busy box, and compare within a run, not across runs.`,
    '',
    '## What was measured',
    '',
    `Steps of ${o.steps.join(', ')} camera(s), each on a fresh web service (LL-HLS, its default) and a fresh`,
    'Mosquitto, all on loopback. Every camera is **not ours**: `test/helpers/foreign-camera.ts`, a small MQTT',
    'stand-in (retained status, `offline` as its Last Will, one event per command) around plain ffmpeg:',
    'lavfi testsrc2 640x480 @ 30 fps, libx264 ultrafast/zerolatency at 2 Mbps, a keyframe every second, ffmpeg’s',
    'own mpegts muxer, 1316-byte datagrams. `cam1` is the service’s default camera (`CAMERA_ID`, `UDP_LISTEN`);',
    '`cam2`… announce themselves on the broker and are discovered, each on a port of `UDP_PORT_RANGE`.',
    '',
    `- **Start**: \`POST /api/cameras/<id>/start\`, request → 200 \`{"state":"live"}\` (a playable playlist).`,
    `  ${o.rounds} round(s) per step: every camera **one at a time** (each start alone; those before it stay live),`,
    '  all stopped, then every camera **all together** (concurrent requests). Medians and p95 over every start.',
    '  Each start is split at the camera’s first frame (the `at` of its `streaming` status): before it, the',
    '  command over MQTT and the camera’s encoder starting (N encoders start at once when all start together,',
    '  on the same 2 cores); after it, the service’s part: its ingest, the segmenter, the first playable playlist.',
    `- **Window**: with every camera live, ${o.durationSec} s of 1-second samples from /proc: the service process`,
    '  (CPU from utime+stime, RSS from VmRSS), each camera’s segmenter ffmpeg (the service’s child, found by the',
    '  service’s `segmenter running` log line), the cameras’ encoders, the whole machine. Figures are **medians**',
    '  over the samples; "per camera" is the total ÷ cameras, and for segmenters the median over cameras.',
    '  A 1-second sample counts CPU in ticks of 1 % of a core, too coarse for a segmenter (well under 1 %): its',
    '  figure is its CPU time over the whole window ÷ the window.',
    '  RSS counts shared pages (ffmpeg’s and Node’s libraries) in every process; the private memory (USS:',
    '  Private_Clean + Private_Dirty of `/proc/<pid>/smaps_rollup`, read once at the window’s end) counts only',
    '  the pages that process alone maps: what one more camera’s segmenter costs.',
    '- **Playlists**: during the window one watcher per camera asks for the next part with blocking reloads',
    '  (`_HLS_msn`/`_HLS_part`), as an LL-HLS player does: each answer must be a 200 with a newer part. So the',
    '  service serves one LL-HLS player per camera while it is measured.',
    '',
    '## Figures per step',
    '',
    stepTable(figures),
    '',
    ...(figures.length > 1 ? ['## Against one camera', '', ratioTable(figures), ''] : []),
    ...baselineSection(run),
    `![CPU and memory against the number of cameras](${PLOT_FILE})`,
    '',
    '## Each camera',
    '',
    ...run.steps.flatMap((step, i) => [
      `### ${i + 1}. ${step.baseline ? 'Before many cameras: ' : ''}${step.cameras} camera${step.cameras === 1 ? '' : 's'} (load ${step.load1} when the window began)`,
      '',
      cameraTable(step),
      '',
    ]),
    `Stopping every camera of a step at once (\`POST …/stop\`, all answered): median ${ms(median(stopMs))}, p95 ${ms(percentile(stopMs, 95))}.`,
    '',
    '## Errors',
    '',
    ...errorLines(run),
    '',
    '## Command lines',
    '',
    ...Object.entries(run.commands).flatMap(([what, line]) => [`- ${what}: \`${line}\``]),
    '',
    '## Machine',
    '',
    machineTable(run.machine),
    '',
    'Raw data: `samples.json` (every start, every 1-second sample of every process, every playlist check).',
    '',
  ].join('\n');
}
