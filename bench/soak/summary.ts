/** The report's summary: one line per group, plain words and the numbers; the stalls. Pure. */
import { STALL_GRACE_MS } from '../report/analysis.js';
import { duration, formatValue } from './format.js';
import { GROUP_TITLES, type Group, type JudgedSeries } from './series.js';
import type { SoakRun } from './types.js';

/** What moved, with the numbers: "grows: 100 → 120 MiB (trend +18 MiB over the run, +360 MiB/h; allowed ± 5 MiB)". */
function moved({ spec, trend }: JudgedSeries): string {
  const f = (v: number, signed = false) => formatValue(v, spec.unit, false, signed);
  return (
    `${spec.label} **${trend.verdict}**: ${f(trend.start!)} → ${f(trend.end!)} (trend ${f(trend.trendOverRun!, true)} ` +
    `over the steady period, ${f(trend.slopePerHour!, true)}/h; allowed ± ${f(trend.allowed!)})`
  );
}

/** One line per group: what stayed flat, what did not, with the numbers. */
function groupLine(group: Group, members: JudgedSeries[], extra: string): string {
  const judged = members.filter((s) => s.trend.verdict !== 'n/a');
  const notFlat = judged.filter((s) => s.trend.verdict !== 'flat');
  const title = `- **${GROUP_TITLES[group]}**: `;
  const verdicts =
    judged.length === 0
      ? 'not judged (too few samples after the warm-up).'
      : notFlat.length === 0
        ? `${judged.length === 1 ? 'it stays' : judged.length === 2 ? 'both series stay' : `all ${judged.length} series stay`} flat.`
        : `${judged.length - notFlat.length} of ${judged.length} stay flat; ${notFlat.map(moved).join('; ')}.`;
  return `${title}${verdicts}${extra ? ` ${extra}` : ''}`;
}

interface Stall {
  /** s since the first frame. */
  t: number;
  durationMs: number;
  /** The video element's readyState when 'waiting' fired (4: it had enough data all along). */
  readyState: number;
  /** What the viewer showed over the interval that holds the stall. */
  frames?: number;
  dropped?: number;
  seconds?: number;
}

/** 'waiting' events after start-up, each until the next 'playing' (or the end of the run). */
export function stallsOf(run: SoakRun): Stall[] {
  const end = run.firstFrameAt + (run.samples.at(-1)?.t ?? 0) * 1000;
  return run.mediaEvents.flatMap((event, i) => {
    if (event.type !== 'waiting' || event.at < run.firstFrameAt + STALL_GRACE_MS) return [];
    const playing = run.mediaEvents.slice(i + 1).find((e) => e.type === 'playing')?.at ?? end;
    const t = (event.at - run.firstFrameAt) / 1000;
    const interval = run.samples.find((s) => s.t >= t)?.viewer;
    return [
      {
        t,
        durationMs: Math.max(0, playing - event.at),
        readyState: event.readyState,
        ...(interval && { frames: interval.frames, seconds: interval.seconds }),
        ...(interval?.dropped !== undefined && { dropped: interval.dropped }),
      },
    ];
  });
}

/** The plain-words facts some groups add to their verdicts. */
function groupExtras(run: SoakRun, judged: JudgedSeries[]): Partial<Record<Group, string>> {
  const get = (id: string) => judged.find((s) => s.spec.id === id);
  const maxOf = (id: string) => Math.max(0, ...(get(id)?.points.map((p) => p.y) ?? []));
  const range = (id: string) => {
    const series = get(id);
    return series?.trend.min === undefined
      ? 'n/a'
      : `${formatValue(series.trend.min, series.spec.unit)} – ${formatValue(series.trend.max!, series.spec.unit)}`;
  };
  const extras: Partial<Record<Group, string>> = {};
  extras.disk =
    maxOf('disk.hls.bytes') === 0 && maxOf('disk.hls.files') === 0
      ? 'HLS_DIR stayed empty the whole run (0 files, 0 bytes): LL-HLS keeps its media in memory and writes nothing.'
      : `HLS_DIR held up to ${maxOf('disk.hls.files')} files, ${formatValue(maxOf('disk.hls.bytes'), 'bytes')}: LL-HLS should write nothing there.`;
  const cache = get('disk.cache.bytes');
  if (cache && cache.points.length > 1) {
    const grew = cache.points.at(-1)!.y - cache.points[0]!.y;
    extras.disk +=
      ` The viewer’s HTTP cache grew by ${formatValue(grew, 'bytes')} over the run: Chromium keeps the parts and ` +
      `segments it fetched${run.mediaCacheControl ? ` (the service sends them with \`Cache-Control: ${run.mediaCacheControl}\`)` : ''}.`;
  }
  extras.latency = `Glass-to-glass median over each interval: ${range('latency.median')}; p95: ${range('latency.p95')}.`;
  extras.packager = `Bytes held: ${range('packager.bytes')}.`;
  const stalls = stallsOf(run);
  const frames = run.samples.reduce((sum, s) => sum + s.viewer.frames, 0);
  const unreadable = run.samples.reduce((sum, s) => sum + s.viewer.unreadable, 0);
  const stallMs = stalls.reduce((sum, x) => sum + x.durationMs, 0);
  const stallTime = stallMs < 1 ? '< 1 ms' : `${Math.round(stallMs)} ms`;
  extras.viewer =
    `${frames} frames shown, ${unreadable} with an unreadable stamp; ` +
    (stalls.length === 0
      ? 'no stalls after start-up.'
      : `**${stalls.length} stall${stalls.length > 1 ? 's' : ''}** after start-up (${stallTime} in all; see Stalls).`);
  return extras;
}

export function summary(run: SoakRun, judged: JudgedSeries[]): string[] {
  const lines: string[] = [];
  const played = run.samples.at(-1)?.t ?? 0;
  const all = judged.filter((s) => s.trend.verdict !== 'n/a');
  const flat = all.filter((s) => s.trend.verdict === 'flat');
  if (run.failure) {
    lines.push(
      `**The run stopped early**, ${duration(run.failure.t)} after the first frame: ${run.failure.message}`,
      '',
    );
  }
  lines.push(
    `${duration(played)} of playback with one viewer, a sample every ${run.options.intervalSec} s; the first ` +
      `${duration(run.warmupSec)} are warm-up, not judged. **${flat.length} of ${all.length} series stay flat** ` +
      'by the rule below.',
    '',
  );
  const extras = groupExtras(run, judged);
  for (const group of new Set(judged.map((s) => s.spec.group))) {
    lines.push(
      groupLine(
        group,
        judged.filter((s) => s.spec.group === group),
        extras[group] ?? '',
      ),
    );
  }
  return lines;
}
