/** The report's summary table: the headline figures side by side, with the targets and whether ours meets them. Pure. */
import type { Summary } from '../lib/stats.js';
import type { SystemName, SystemRun, ViewerRun } from '../lib/types.js';
import { latencyFigures, STALL_GRACE_MS, stallsOf, startFigures, type StartFigures } from './analysis.js';
import { isLowLatency, label, medP95, ms, ratio, runsOf, table } from './format.js';
import { SETTLE_MAX_GAP_MS, settlePercentile, settleResults } from './settle.js';

/**
 * The targets of issue 4 (LL-HLS) and of the brief (plain HLS; settled: "start → moving and under
 * 1 s behind"), ms; stalls: none.
 */
export const TARGETS = {
  ll: { toManifest: 800, toFirstFrame: 1200, g2gMedian: 900, g2gP95: 1200, settled: 2000 },
  plain: { toManifest: 1500, toFirstFrame: 1200, g2gMedian: 2000, g2gP95: undefined, settled: undefined },
} as const;

/** The window the "no stalls" target is about. */
export const STALL_TARGET_WINDOW_SEC = 300;

type Runs = Partial<Record<SystemName, SystemRun>>;

const countedStalls = (viewer: ViewerRun | undefined) => {
  const all = viewer && stallsOf(viewer);
  return all?.filter((x) => !x.startUp);
};

function stallCell(viewer: ViewerRun | undefined): string {
  if (!viewer) return 'n/a';
  const counted = countedStalls(viewer);
  if (!counted) return `${viewer.stalls ?? 'n/a'} (${ms(viewer.stallMs)}), page’s count`;
  return `${counted.length} (${ms(counted.reduce((sum, x) => sum + x.durationMs, 0))})`;
}

const startUpStalls = (viewer: ViewerRun | undefined) => {
  const all = viewer && stallsOf(viewer);
  return all ? String(all.filter((x) => x.startUp).length) : 'n/a';
};

const joinToFirst = (run: SystemRun | undefined) => {
  const joiner = run?.steady.lateJoiner;
  return joiner ? joiner.firstFrameAt - joiner.joinAt : undefined;
};

/** "yes"/"no" against a limit, with the figure's distance from it. */
function verdict(value: number | 'never' | undefined, limit: number | undefined): string {
  if (value === undefined || limit === undefined) return '';
  if (value === 'never') return '**no** (not settled)';
  return value <= limit ? `yes (${ms(limit - value)} under)` : `**no** (${ms(value - limit)} over)`;
}

/** Whether each of ours meets the target that applies to it (LL-HLS, plain HLS). */
function met(runs: Runs, f: (run: SystemRun, targets: (typeof TARGETS)['ll' | 'plain']) => string): string {
  const ours = runsOf(runs).filter((run) => run.system !== 'peer');
  const verdicts: string[] = [];
  for (const run of ours) {
    const text = f(run, isLowLatency(run) ? TARGETS.ll : TARGETS.plain);
    if (text !== '') verdicts.push(ours.length > 1 ? `${label(run)}: ${text}` : text);
  }
  return verdicts.join('; ');
}

const settleText = (value: number | 'never' | undefined) => (value === 'never' ? 'not settled' : ms(value));

/** Start → settled over the cold starts: median (p95), and how many did not settle in their window. */
function settleCell(run: SystemRun): string {
  const results = settleResults(run.coldStarts);
  if (results.length === 0) return 'n/a';
  const median = settlePercentile(results, 50);
  const p95 = settlePercentile(results, 95);
  const unsettled = results.filter((r) => r.toSettled === undefined).length;
  const window = Math.min(...results.map((r) => r.observedMs)) / 1000;
  return (
    `${settleText(median)} (p95 ${settleText(p95)})` +
    (unsettled > 0 ? `; ${unsettled} of ${results.length} not within ${window.toFixed(0)} s` : '')
  );
}

function stallVerdict(run: SystemRun, viewer: ViewerRun | undefined): string {
  const counted = countedStalls(viewer);
  if (!viewer || !counted) return '';
  const windowSec = (viewer.endedAt - viewer.firstFrameAt) / 1000;
  const shorter =
    windowSec < STALL_TARGET_WINDOW_SEC - 1
      ? ` in ${Math.round(windowSec)} s (the target is for ${STALL_TARGET_WINDOW_SEC / 60} min)`
      : '';
  return counted.length === 0 ? `yes${shorter}` : `**no**: ${counted.length}${shorter}`;
}

export function summaryTable(runs: Runs): string {
  const { peer } = runs;
  const columns = runsOf(runs);
  // The ratio compares the peer with ours fed by the same camera, when that was measured.
  const sameCamera =
    peer?.camera === 'foreign' && runs['ours-foreign']
      ? runs['ours-foreign']
      : (runs.ours ?? runs['ours-foreign']);
  const latency = (run: SystemRun | undefined) => run && latencyFigures(run.steady);
  const joined = (run: SystemRun | undefined) =>
    run?.steady.lateJoiner && latencyFigures(run.steady.lateJoiner);
  /** One row: every system, the ratio, target (LL-HLS; plain), met, seed 004, nginx-rtmp. */
  const line = (
    figure: string,
    value: (run: SystemRun | undefined) => string,
    number: ((run: SystemRun | undefined) => number | undefined) | undefined,
    target: string,
    verdictOf: ((run: SystemRun, targets: (typeof TARGETS)['ll' | 'plain']) => string) | undefined,
    seed = '',
    nginx = '',
  ) => [
    figure,
    ...columns.map(value),
    ...(peer ? [number ? ratio(number(sameCamera), number(peer)) : ''] : []),
    target,
    verdictOf ? met(runs, verdictOf) : '',
    seed,
    nginx,
  ];
  const startRow = (f: (s: StartFigures) => Summary) => (run: SystemRun | undefined) =>
    run ? medP95(f(startFigures(run.coldStarts))) : 'n/a';
  const startNumber = (f: (s: StartFigures) => Summary) => (run: SystemRun | undefined) =>
    run && f(startFigures(run.coldStarts)).median;
  const g2g = (f: (s: Summary) => number | undefined) => (run: SystemRun | undefined) => {
    const figures = latency(run);
    return figures && f(figures.all);
  };
  const count = (f: (run: SystemRun) => string) => (run: SystemRun | undefined) => (run ? f(run) : 'n/a');
  const grace = `${STALL_GRACE_MS / 1000} s`;
  return table(
    [
      'figure',
      ...columns.map(label),
      ...(peer ? [`ratio ${sameCamera ? label(sameCamera) : 'ours'} / peer`] : []),
      'target: LL-HLS (plain HLS)',
      'met by ours',
      'brief: seed 004',
      'brief: nginx-rtmp 1 s',
    ],
    [
      line(
        'start → manifest ready, median (p95)',
        startRow((s) => s.toManifest),
        startNumber((s) => s.toManifest),
        '≤ 0.8 s (≤ 1.5 s)',
        (r, t) => verdict(startFigures(r.coldStarts).toManifest.median, t.toManifest),
        '≈ 5.3 s',
        '≈ 1.1 s',
      ),
      line(
        'start → first frame on screen, median (p95)',
        startRow((s) => s.toFirstFrame),
        startNumber((s) => s.toFirstFrame),
        '≤ 1.2 s',
        (r, t) => verdict(startFigures(r.coldStarts).toFirstFrame.median, t.toFirstFrame),
        '≈ 6 s',
        '≈ 1.7 s',
      ),
      line(
        `start → settled: no freeze > ${SETTLE_MAX_GAP_MS} ms and every frame < 1 s behind from then on, median (p95)`,
        count(settleCell),
        (r) => {
          const median = r && settlePercentile(settleResults(r.coldStarts), 50);
          return typeof median === 'number' ? median : undefined;
        },
        '≤ 2.0 s (—)',
        (r, t) => verdict(settlePercentile(settleResults(r.coldStarts), 50), t.settled),
        'never',
        'never',
      ),
      line(
        'glass-to-glass, viewer there from the start, median',
        (r) => ms(g2g((s) => s.median)(r)),
        g2g((s) => s.median),
        '≤ 0.9 s (≤ 2.0 s)',
        (r, t) => verdict(g2g((s) => s.median)(r), t.g2gMedian),
        '7-8 s',
        '1.9-2.1 s',
      ),
      line(
        'glass-to-glass, viewer there from the start, p95',
        (r) => ms(g2g((s) => s.p95)(r)),
        g2g((s) => s.p95),
        '≤ 1.2 s',
        (r, t) => verdict(g2g((s) => s.p95)(r), t.g2gP95),
      ),
      line(
        'glass-to-glass, viewer there from the start, min',
        (r) => ms(g2g((s) => s.min)(r)),
        g2g((s) => s.min),
        '',
        undefined,
      ),
      line(
        'glass-to-glass, viewer there from the start, max',
        (r) => ms(g2g((s) => s.max)(r)),
        g2g((s) => s.max),
        '',
        undefined,
      ),
      line(
        'glass-to-glass, viewer there from the start, median of the second half (settled)',
        (r) => ms(latency(r)?.settled.median),
        (r) => latency(r)?.settled.median,
        '',
        undefined,
      ),
      line(
        'glass-to-glass, viewer who joined a live stream, median (p95)',
        (r) => {
          const figures = joined(r);
          return figures?.all.median === undefined ? 'n/a' : medP95(figures.all);
        },
        (r) => joined(r)?.all.median,
        '≤ 0.9 s (≤ 2.0 s)',
        (r, t) => verdict(joined(r)?.all.median, t.g2gMedian),
      ),
      line(
        'viewer who joined a live stream: opening the page → first frame',
        (r) => ms(joinToFirst(r)),
        joinToFirst,
        '',
        undefined,
      ),
      line(
        `stalls, viewer there from the start, from ${grace} after its first frame (total time)`,
        count((r) => stallCell(r.steady)),
        undefined,
        `none in ${STALL_TARGET_WINDOW_SEC / 60} min`,
        (r) => stallVerdict(r, r.steady),
      ),
      line(
        `stalls, viewer who joined a live stream, from ${grace} after its first frame (total time)`,
        count((r) => stallCell(r.steady.lateJoiner)),
        undefined,
        `none in ${STALL_TARGET_WINDOW_SEC / 60} min`,
        (r) => stallVerdict(r, r.steady.lateJoiner),
      ),
      line(
        `\`waiting\` events in a viewer’s first ${grace} (start-up, not counted above): from the start / joined`,
        count((r) => `${startUpStalls(r.steady)} / ${startUpStalls(r.steady.lateJoiner)}`),
        undefined,
        '',
        undefined,
      ),
      line(
        'unread frames (no stamp read)',
        count((r) => String(r.steady.unreadFrames ?? 'n/a')),
        undefined,
        '',
        undefined,
      ),
      line(
        'dropped / total frames (video element)',
        count((r) => `${r.steady.droppedFrames ?? 'n/a'} / ${r.steady.totalFrames ?? 'n/a'}`),
        undefined,
        '',
        undefined,
      ),
      line(
        'glass-to-glass samples: from the start / joined',
        count((r) => `${r.steady.samples.length} / ${r.steady.lateJoiner?.samples.length ?? 'n/a'}`),
        undefined,
        '',
        undefined,
      ),
    ],
  );
}
