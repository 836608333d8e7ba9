/** The soak's report.md: a plain-words summary, the rule, a verdict per series, the run and the machine. Pure. */
import { median } from '../lib/stats.js';
import { machineTable, table } from '../report/format.js';
import { STALL_GRACE_MS } from '../report/analysis.js';
import { VIDEO } from '../systems/common.js';
import { duration, formatValue } from './format.js';
import { stallsOf, summary } from './summary.js';
import { edgeCount } from './trend.js';
import { FD_KINDS, GROUP_TITLES, judgeAll, judgeFdKinds, TOLERANCES, type JudgedSeries } from './series.js';
import { ROLE_DESCRIPTIONS, ROLE_LABELS, ROLES, type SoakRun } from './types.js';

/** The figures files, as run.ts writes them. */
export const PLOT_FILE = 'soak.svg';
export const PLOT_PNG = 'soak.png';

const VERDICT_TEXT = { flat: 'flat', grows: '**grows**', falls: 'falls', 'n/a': 'n/a' };

function row({ spec, trend }: JudgedSeries): string[] {
  const f = (v: number | undefined, signed = false) =>
    v === undefined ? 'n/a' : formatValue(v, spec.unit, false, signed);
  return [
    spec.label,
    f(trend.start),
    f(trend.end),
    f(trend.min),
    f(trend.max),
    f(trend.slopePerHour, true),
    trend.allowed === undefined ? spec.tolerance.text : `± ${f(trend.allowed)}`,
    VERDICT_TEXT[trend.verdict],
  ];
}

const HEAD = ['metric', 'start', 'end', 'min', 'max', 'trend per hour', 'tolerance', 'verdict'];

function rule(run: SoakRun): string[] {
  const steady = run.samples.filter((s) => s.t >= run.warmupSec).length;
  const tolerances = Object.entries({
    memory: TOLERANCES.memory,
    'open file descriptors': TOLERANCES.fds,
    'disk (HLS_DIR, the run’s other temporary files)': TOLERANCES.diskBytes,
    'the viewer’s Chromium profile': TOLERANCES.profileBytes,
    'glass-to-glass latency': TOLERANCES.latencyMs,
    'packager bytes held': TOLERANCES.packagerBytes,
    'packager parts held': TOLERANCES.parts,
    'packager segments held, requests held': TOLERANCES.segments,
    CPU: TOLERANCES.cpu,
    'frames shown per second': TOLERANCES.fps,
    'hls.js’s distance from the live edge': TOLERANCES.latencySec,
    'hls.js’s buffer, the media the video element holds': TOLERANCES.buffer,
  }).map(([what, t]) => `- ${what}: ${t.text}`);
  const steadyHours = Math.max(0, (run.samples.at(-1)?.t ?? 0) - run.warmupSec) / 3600;
  return [
    `Each series is judged over the steady period (after the ${duration(run.warmupSec)} warm-up: ${steady} samples), two ways:`,
    '',
    '- the **trend**: the Theil–Sen slope (the median of the slopes between every pair of samples, robust to the',
    '  sawtooth of garbage collection and to outliers) times the length of the steady period; the table gives it per hour;',
    `- the **change**: the median of the last 10 % of the steady samples (at least 3; here ${edgeCount(steady)}) minus that of the first`,
    '  as many ("start" and "end" in the table).',
    '',
    'It is **flat** when both stay within its tolerance, **grows** when either exceeds it upwards, **falls** when either',
    'exceeds it downwards (and neither upwards). The tolerances, with their floors:',
    '',
    ...tolerances,
    '',
    ...(steadyHours > 0
      ? [
          `The steady period here is ${duration(steadyHours * 3600)}: a trend of 4 MiB over it is ${Math.round(4 / steadyHours)} MiB an hour. The`,
          'per-hour column says what a trend would amount to; the shorter the run, the less a "flat" says (the default,',
          '30 minutes, is the run to trust).',
        ]
      : []),
  ];
}

function fdKindTable(run: SoakRun): string {
  const kinds = judgeFdKinds(run);
  const roles = [...new Set(kinds.map((k) => k.role))];
  const cell = (role: string, kind: string) => {
    const found = kinds.find((k) => k.role === role && k.kind === kind);
    if (!found || found.trend.start === undefined) return 'n/a';
    const text = `${found.trend.start} → ${found.trend.end}`;
    return found.trend.verdict === 'flat' ? text : `${text} (${VERDICT_TEXT[found.trend.verdict]})`;
  };
  return table(
    ['process', ...FD_KINDS],
    roles.map((role) => [ROLE_LABELS[role], ...FD_KINDS.map((kind) => cell(role, kind))]),
  );
}

export function renderReport(run: SoakRun): string {
  const judged = judgeAll(run);
  const groups = [...new Set(judged.map((s) => s.spec.group))];
  const loads = run.samples.map((s) => s.load1);
  const stalls = stallsOf(run);
  const { machine } = run;
  return [
    `# Soak: one LL-HLS stream, one viewer, ${duration(run.options.durationSec)}`,
    '',
    `Run on ${run.startedAt}. Plot: [\`${PLOT_FILE}\`](${PLOT_FILE}) (and \`${PLOT_PNG}\`); raw data: \`samples.json\`.`,
    '',
    '## Summary',
    '',
    ...summary(run, judged),
    '',
    `![the soak's series over time](${PLOT_PNG})`,
    '',
    '## The rule',
    '',
    ...rule(run),
    '',
    ...groups.flatMap((group) => [
      `## ${GROUP_TITLES[group]}`,
      '',
      table(HEAD, judged.filter((s) => s.spec.group === group).map(row)),
      '',
      ...(group === 'fds'
        ? ['By kind (start → end, medians of the first and last 10 %):', '', fdKindTable(run), '']
        : []),
    ]),
    '## Stalls',
    '',
    stalls.length === 0
      ? `None: no \`waiting\` event of the video element after start-up (${STALL_GRACE_MS / 1000} s after the first frame).`
      : table(
          [
            'at (since the first frame)',
            'until playing again',
            'readyState',
            'that interval: frames shown, dropped',
          ],
          stalls.map((s) => [
            duration(s.t),
            s.durationMs < 1 ? '< 1 ms' : formatValue(s.durationMs, 'ms'),
            String(s.readyState),
            s.frames === undefined
              ? 'n/a'
              : `${s.frames} in ${s.seconds!.toFixed(1)} s (${(s.frames / s.seconds!).toFixed(1)} fps), ${s.dropped ?? 'n/a'} dropped`,
          ]),
        ),
    '',
    '## The run',
    '',
    table(
      ['', ''],
      [
        ['command', `\`${run.command}\``],
        [
          'playback',
          `${duration(run.options.durationSec)} from the first frame (Start clicked ${Math.round(run.firstFrameAt - run.clickedAt)} ms before it)`,
        ],
        [
          'sampling',
          `every ${run.options.intervalSec} s, ${run.samples.length} samples; warm-up ${duration(run.warmupSec)}`,
        ],
        [
          'camera',
          `the agent CLI, stamped test source, ${VIDEO.width}x${VIDEO.height} @ ${VIDEO.fps} fps, ${VIDEO.bitrate / 1e6} Mbps, a keyframe every ${VIDEO.keyframeInterval} frames`,
        ],
        [
          'service',
          'the web service CLI from dist/, HLS_MODE=ll (the default), its embedded MQTT broker, loopback only',
        ],
        [
          'viewer',
          'Debian’s Chromium (headless, playwright-core), the web client on `/?stats=1&transport=hls`, Start clicked',
        ],
        [
          'temporary files',
          'every process of the run had TMPDIR set to one private folder, so its disk figures are the run’s alone',
        ],
        [
          'load average during the run (1 min)',
          loads.length ? `${Math.min(...loads)} – ${Math.max(...loads)}` : 'n/a',
        ],
        [
          'one sample took (median, max): the soak’s own cost',
          run.samples.length
            ? `${Math.round(median(run.samples.map((s) => s.sampleMs))!)} ms, ${Math.max(...run.samples.map((s) => s.sampleMs))} ms`
            : 'n/a',
        ],
        ...(run.failure ? [['stopped early', `${duration(run.failure.t)}: ${run.failure.message}`]] : []),
      ],
    ),
    '',
    'The processes (RSS: VmRSS; CPU: utime+stime over the interval, % of one core; open fds: /proc/<pid>/fd):',
    '',
    ...ROLES.map((role) => `- ${ROLE_LABELS[role]}: ${ROLE_DESCRIPTIONS[role]}`),
    '',
    'The service’s own view comes from GET /metrics (prom-client). Disk: apparent sizes of the regular files under',
    'HLS_DIR, the Chromium profile (its HTTP cache apart) and the rest of the run’s temporary folder. The page keeps',
    'its glass-to-glass samples in a ring of 20 000 (about 11 minutes at 30 fps), so its JS heap grows a little',
    'until the ring is full, by design.',
    '',
    '## The machine',
    '',
    machineTable(machine),
    '',
    '## Commands that ran',
    '',
    ...Object.entries(run.commands).map(([what, command]) => `- ${what}: \`${command}\``),
    '',
  ].join('\n');
}
