/** report.md: the figures side by side, where the time goes, resources, the machine. Pure. */
import type { MachineInfo } from '../lib/machine.js';
import { summarize, type Summary } from '../lib/stats.js';
import type { ColdStart, SystemName, SystemRun, ViewerRun } from '../lib/types.js';
import { resourceFigures, STALL_GRACE_MS, stallsOf, startFigures, type StartFigures } from './analysis.js';
import { lowLatencyStart, type LowLatencyStart } from './analysis-ll.js';
import { cells, isLowLatency, label, machineTable, medP95, ms, runsOf, table } from './format.js';
import { summaryTable } from './summary.js';
import { SETTLE_HOLD_MS, SETTLE_MAX_GAP_MS, SETTLE_MAX_LATENCY_MS, settleOf } from './settle.js';
import { packagerSection, whereTheTimeGoesLowLatency } from './where-ll.js';
import { whereTheTimeGoesPlain } from './where-plain.js';

export interface ReportInput {
  runs: Partial<Record<SystemName, SystemRun>>;
  machine: MachineInfo;
  command: string;
  startedAt: Date;
  durationSec: number;
  coldStarts: number;
}

function startDetail(runs: SystemRun[]): string {
  const figures = new Map(runs.map((r) => [r, startFigures(r.coldStarts)]));
  const ll = new Map(runs.map((r) => [r, isLowLatency(r) ? lowLatencyStart(r.coldStarts) : undefined]));
  const line = (text: string, f: (s: StartFigures) => Summary) =>
    cells(text, runs, (r) => medP95(f(figures.get(r)!)));
  const llLine = (text: string, f: (s: LowLatencyStart) => Summary) =>
    cells(text, runs, (r) => {
      const figures = ll.get(r);
      return figures ? medP95(f(figures)) : '—';
    });
  const anyLowLatency = runs.some(isLowLatency);
  const cycles = runs.flatMap((run) =>
    run.coldStarts.map((c) => [
      `${label(run)} ${c.cycle}`,
      ms(c.toFirstDatagram),
      ...(anyLowLatency ? [ms(c.toFirstPart)] : []),
      ms(c.toPlaylistFile),
      ms(c.toManifest),
      ms(c.toFirstFrame),
      settledCell(c),
      ms(c.pageLoad),
    ]),
  );
  return [
    table(
      ['step (median of the cold starts, p95)', ...runs.map(label)],
      [
        line('start → the encoder’s first datagram', (s) => s.toFirstDatagram),
        line('first datagram → the receiving ffmpeg has probed its input', (s) => s.probe),
        ...(anyLowLatency
          ? [
              llLine(
                'first datagram → the playlist lists the first part (LL-HLS)',
                (s) => s.datagramToFirstPart,
              ),
              llLine('the first part’s duration (LL-HLS)', (s) => s.firstPart),
            ]
          : []),
        line('first datagram → the playlist lists a complete segment', (s) => s.datagramToPlaylist),
        line('EXTINF of the first segment', (s) => s.firstSegment),
        ...(anyLowLatency
          ? [llLine('start → the playlist lists the first part (LL-HLS)', (s) => s.toFirstPart)]
          : []),
        line('start → the playlist lists a complete segment', (s) => s.toPlaylistFile),
        line('start → manifest ready (as defined below)', (s) => s.toManifest),
        line(
          'manifest ready → first frame (the player; the peer’s includes opening the page)',
          (s) => s.manifestToFirstFrame,
        ),
        line('opening the player page (peer only)', (s) => s.pageLoad),
        line('start → first frame on screen', (s) => s.toFirstFrame),
        cells('POST /api/stream/start → 200, no browser (ours only)', runs, (r) =>
          r.apiStarts ? medP95(summarize(r.apiStarts)) : '—',
        ),
      ],
    ),
    '',
    'The playlist is read from disk every 20 ms in plain HLS (ours plain: HLS_DIR; the peer: nginx’s',
    'hls_path) and over HTTP in LL-HLS (every 20 ms until it exists, then blocking reloads).',
    '',
    'Each cold start:',
    '',
    table(
      [
        'cycle',
        'start → first datagram',
        ...(anyLowLatency ? ['start → first part listed'] : []),
        'start → complete segment listed',
        'start → manifest',
        'start → first frame',
        'start → settled',
        'page load',
      ],
      cycles,
    ),
  ].join('\n');
}

const settledCell = (start: ColdStart) => {
  const result = settleOf(start);
  if (!result) return 'not observed';
  return result.toSettled !== undefined ? ms(result.toSettled) : `not within ${ms(result.observedMs)}`;
};

/** The "settled" figure of each cold start, with the worst of its observation. */
function settleDetail(runs: SystemRun[]): string {
  const rows = runs.flatMap((run) =>
    run.coldStarts.map((start) => {
      const result = settleOf(start);
      return [
        `${label(run)} ${start.cycle}`,
        ms(start.toFirstFrame),
        settledCell(start),
        result ? ms(result.observedMs) : 'n/a',
        ms(result?.longestGapMs),
        ms(result?.maxLatencyMs),
        String(start.settle?.samples.length ?? 'n/a'),
      ];
    }),
  );
  return [
    `Settled: from this moment on, the picture never stops for more than ${SETTLE_MAX_GAP_MS} ms (no gap between`,
    `two displayed frames above it) and every displayed frame is under ${SETTLE_MAX_LATENCY_MS / 1000} s glass to glass, until the`,
    'observation ends: each cold start’s page is watched from the start to a fixed time after its first frame',
    '(the last cold start: the same stretch of the steady window), and the figure is the display time of the first',
    `frame of the last stretch that keeps both rules to the end, provided that stretch lasts at least`,
    `${SETTLE_HOLD_MS / 1000} s; otherwise “not within” the observation. A frame whose stamp could not be read counts as`,
    'not shown (it would widen a gap). Median and p95 are over the cold starts, a start that did not settle',
    'counting as longer than any; the columns on the right are the worst of the whole observation, start-up',
    'included.',
    '',
    table(
      [
        'cycle',
        'start → first frame',
        'start → settled',
        'observed (start → end)',
        'longest gap between frames',
        'worst glass-to-glass',
        'frames seen',
      ],
      rows,
    ),
  ].join('\n');
}

function lateJoinerNote(runs: SystemRun[]): string[] {
  const joiners = runs.flatMap((r) => r.steady.lateJoiner ?? []);
  if (joiners.length === 0) return ['- **Viewer who joined a live stream**: not measured in this run.'];
  const delays = joiners.map((j) => `${(j.joinDelayMs / 1000).toFixed(1)} s`).join(', ');
  const windows = joiners.map((j) => `${((j.endedAt - j.firstFrameAt) / 1000).toFixed(1)} s`).join(', ');
  const who = runs
    .filter((r) => r.steady.lateJoiner)
    .map(label)
    .join(', ');
  return [
    '- **Viewer who joined a live stream** (the late joiner): during the steady window, a second, fresh page',
    '  opens the live stream (ours: `/?stats=1&transport=hls`, no click; the peer: the same `?src=` URL) in a second Chromium',
    `  (idle until then), ${delays} after the first viewer’s first frame (${who});`,
    `  measured from its first frame until the window ends (${windows}). “Opening the page → first frame”`,
    '  runs from the navigation’s start. The resource figures include it from then on.',
  ];
}

function stallDetail(runs: SystemRun[]): string {
  const rows: string[][] = [];
  for (const run of runs) {
    const viewers: [string, ViewerRun | undefined][] = [
      ['there from the start', run.steady],
      ['joined a live stream', run.steady.lateJoiner],
    ];
    for (const [who, viewer] of viewers) {
      if (!viewer) continue;
      const stalls = stallsOf(viewer);
      if (!stalls) {
        rows.push([label(run), who, 'not logged', '', '', '', `${viewer.stalls ?? 'n/a'} (page’s count)`]);
        continue;
      }
      if (stalls.length === 0) rows.push([label(run), who, 'none', '', '', '', '']);
      for (const stall of stalls) {
        rows.push([
          label(run),
          who,
          `+${(stall.sinceFirstFrame / 1000).toFixed(2)} s`,
          `${stall.currentTime.toFixed(3)} s (${stall.readyState})`,
          ms(stall.durationMs),
          ms(stall.frameGapMs),
          stall.startUp ? `start-up (first ${STALL_GRACE_MS / 1000} s): not counted` : 'counted',
        ]);
      }
    }
  }
  return [
    'Every `waiting` event after a viewer’s first frame, with the playhead (`currentTime`; segments are 1 s',
    'long, so a playhead at the same fraction of a second each time is a segment boundary) and `readyState`',
    '(1: no frame yet, 2: the current frame only, 4: enough data). “Frames” is the gap between the last frame',
    'shown before it and the first after: 33 ms at 30 fps means the picture did not freeze.',
    '',
    'A viewer there from the start begins as soon as it can (plain HLS: on the first segment; LL-HLS: hls.js',
    'seeks PART-HOLD-BACK behind the live edge, then plays), so a `waiting` event in its first 2 s is',
    'start-up, not a stall in steady playback.',
    '',
    table(
      [
        'system',
        'viewer',
        'since its first frame',
        'playhead (readyState)',
        'waiting → playing/frame',
        'frames: gap around it',
        '',
      ],
      rows,
    ),
  ].join('\n');
}

function resources(runs: SystemRun[]): string {
  const rows: string[][] = [];
  for (const run of runs) {
    for (const r of resourceFigures(run)) {
      rows.push([
        label(run),
        r.role,
        r.cpuMedian === undefined
          ? 'n/a'
          : `${r.cpuMedian.toFixed(1)} (${r.cpuMean!.toFixed(1)}, ${r.cpuMax!.toFixed(1)})`,
        r.rssMedian === undefined ? 'n/a' : `${r.rssMedian.toFixed(1)} (${r.rssMax!.toFixed(1)})`,
      ]);
    }
  }
  return table(
    ['system', 'process', 'CPU, % of one core: median (mean, max)', 'RSS, MiB: median (max)'],
    rows,
  );
}

/** What each system's start and manifest mean. */
function definitions(runs: SystemRun[]): string[] {
  const lines: string[] = [];
  for (const run of runs) {
    if (run.system === 'peer') {
      lines.push(
        `- **${label(run)}**: start = the bench spawns the remuxer (as our service spawns its segmenter), waits until it`,
        '  listens, and publishes the start command over MQTT; manifest ready = nginx’s playlist on disk lists a',
        '  segment; first frame = the player page (opened at that moment, `?src=` player-only mode) shows its first frame.',
        ...(run.camera === 'foreign'
          ? [
              '  Fed by the foreign camera (plain ffmpeg, a keyframe a second, none early), so nginx’s first fragment is',
              '  one GOP long; our agent’s early second keyframe would make it 1.2 s (`--peer-camera agent`).',
            ]
          : [
              '  Fed by our agent: its early second keyframe (0.2 s in, for our LL-HLS start) makes nginx’s first fragment',
              '  1.2 s long (it cuts at the first keyframe after 1 s), ~0.2 s more start time than a plain GOP.',
            ]),
      );
    } else {
      // The quick start (llhls/cutter.ts): the same for any camera, whatever its GOP.
      const firstSegment =
        'half a part (0.1 s) of video: until the\n  camera’s second keyframe each part is a segment of its own';
      lines.push(
        `- **${label(run)}**: start = the click on Start; manifest ready = \`POST /api/stream/start\` answered 200 (the` +
          (isLowLatency(run)
            ? `\n  service answers once the playlist lists the run’s first segment, ${firstSegment});`
            : '\n  service answers once the playlist lists a complete segment);') +
          ' first frame = the page’s first frame after the click.',
      );
    }
  }
  return lines;
}

/** What fed each system. */
function cameras(runs: SystemRun[]): string {
  const agent = runs.filter((r) => (r.camera ?? 'agent') === 'agent').map(label);
  const foreign = runs.filter((r) => r.camera === 'foreign').map(label);
  return [
    'Source: the camera agent’s stamped test source (640x480 @ 30 fps, libx264 ultrafast/zerolatency, 2 Mbps, keyframe',
    'every 30 frames)' +
      (agent.length > 0
        ? `, sent by our agent CLI (an early second keyframe 0.2 s in, each frame’s last datagram flushed) for ${agent.join(', ')}`
        : '') +
      (foreign.length > 0
        ? `${agent.length > 0 ? ';' : ','} by a camera that is not ours for ${foreign.join(', ')}: plain ffmpeg with the same picture and rate ` +
          'control straight to the UDP port, a keyframe every second and none early, ffmpeg’s own mpegts muxer with its ' +
          'defaults (what Picamera2’s PyavOutput and rpicam-vid’s libav output send), behind a small MQTT wrapper ' +
          '(test/helpers/foreign-camera.ts)'
        : '') +
      '.',
  ].join('\n');
}

export function renderReport(input: ReportInput): string {
  const runs = runsOf(input.runs);
  const { machine } = input;
  const commands = runs.flatMap((r) =>
    Object.entries(r.commands).map(([what, line]) => `- ${label(r)}, ${what}: \`${line}\``),
  );
  const notes = runs.flatMap((r) => r.notes);
  const lowLatency = runs.filter(isLowLatency);
  const plain = runs.filter((r) => !isLowLatency(r));
  const title = runs.map(label).join(' vs ');
  return [
    `# Glass-to-glass latency and time to first frame: ${title}`,
    '',
    `Measured ${input.startedAt.toISOString()} with \`${input.command}\`: ${input.coldStarts} cold starts and`,
    `${input.durationSec} s of steady playback per system, one after the other on the same machine.`,
    cameras(runs),
    'Player: the web client’s hls.js page with `?stats=1&transport=hls` in headless Chromium (low-latency mode for LL-HLS), which',
    'reads each displayed frame’s capture-time stamp (glass-to-glass = display time − stamp).',
    '',
    '![glass-to-glass latency over time](latency.svg)',
    '',
    '## Summary',
    '',
    summaryTable(input.runs),
    '',
    ...definitions(runs),
    '- p95 of the start figures is over the cold starts only; glass-to-glass is over every displayed frame of',
    '  the steady window (from the first frame of the last cold start).',
    `- **Settled**: from the start until the picture never again stops for more than ${SETTLE_MAX_GAP_MS} ms and every frame`,
    `  is under ${SETTLE_MAX_LATENCY_MS / 1000} s behind, to the end of each cold start’s observation (see “Settling” below).`,
    ...lateJoinerNote(runs),
    `- **Stalls**: the bench logs the video element’s \`waiting\` events with their time; a stall lasts until`,
    '  the next `playing` event or displayed frame (as the page’s own count has it). Counted from',
    `  ${STALL_GRACE_MS / 1000} s after the viewer’s first frame to the end of the window; those in the first`,
    `  ${STALL_GRACE_MS / 1000} s are start-up and listed apart. Each one is in “Stalls” below.`,
    ...notes.map((n) => `- ${n}`),
    '',
    '## Stalls',
    '',
    stallDetail(runs),
    '',
    '## Settling, each cold start',
    '',
    settleDetail(runs),
    '',
    '## Start, step by step',
    '',
    startDetail(runs),
    ...lowLatency.flatMap((run) => [
      '',
      `## Where the time goes in LL-HLS: ${label(run)}`,
      '',
      whereTheTimeGoesLowLatency(run),
      '',
      `## The LL-HLS packager: memory and CPU${lowLatency.length > 1 ? `: ${label(run)}` : ''}`,
      '',
      packagerSection(run, input.runs['ours-plain']),
    ]),
    ...(plain.length > 0
      ? [
          '',
          `## Where the time goes in plain HLS: ${plain.map(label).join(', ')}`,
          '',
          whereTheTimeGoesPlain(plain),
        ]
      : []),
    '',
    '## Resources',
    '',
    'Sampled every second during the steady window, from /proc (CPU: utime+stime deltas in 10 ms ticks, % of one',
    'core, so single values move in steps of 1 %; the mean is the total CPU time over the window; memory: VmRSS).',
    'A role sums its processes (Chromium: the browser and all its children, so pages they share count more than',
    'once). Agent and encoder are the same programs with the same settings for every system: their rows show how',
    'steady the machine was; so does the whole machine’s row (its memory: MemTotal − MemAvailable).',
    '',
    resources(runs),
    '',
    '## The machine',
    '',
    machineTable(machine),
    '',
    '## Commands that ran',
    '',
    `- the bench: \`${input.command}\``,
    ...commands,
    '',
    'Raw data: `samples.json` (every glass-to-glass sample, segment, part, cold start, resource and /metrics',
    'sample); the plot: `latency.svg` (and `latency.png`); the peer’s nginx config as run: `peer-nginx.conf`.',
    '',
  ].join('\n');
}
