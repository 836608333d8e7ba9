/**
 * The soak's plot: small multiples, one panel per series. bench/report/svg.ts draws one chart with
 * a zero-based y axis and breaks lines at 0.5 s gaps (a stall at one frame per point); a soak needs
 * a panel per series, sampled every few seconds, on an axis that shows its tolerance. Pure.
 *
 * Each panel shades the warm-up (grey) and the tolerance band around the start level (green), and
 * draws the Theil–Sen line (dashed): a line that stays inside the band is flat by the report's rule.
 */
import { escape, svgPage } from '../report/svg.js';
import { formatValue } from './format.js';
import type { JudgedSeries } from './series.js';
import { GROUP_TITLES } from './series.js';

const PANEL_W = 316;
const PANEL_H = 178;
const COLUMNS = 3;
const M = { left: 58, right: 10, top: 34, bottom: 26 };
const VERDICT_COLORS = { flat: '#2a7d32', grows: '#c62828', falls: '#1f5fbf', 'n/a': '#777' };
const GROUP_COLORS: Record<string, string> = {
  memory: '#1f5fbf',
  fds: '#7b3fa0',
  disk: '#8a6d1c',
  latency: '#d9731a',
  packager: '#2a8f6a',
  cpu: '#555',
  viewer: '#555',
};

/** About `count` ticks covering [min, max] at 1/2/5 × 10^k steps. */
export function ticksBetween(min: number, max: number, count = 4): number[] {
  if (!(max > min)) return [min];
  const rough = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

function panel(series: JudgedSeries, x0: number, y0: number, maxT: number, warmupSec: number): string[] {
  const { spec, points, trend } = series;
  const plotW = PANEL_W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const ys = points.map((p) => p.y);
  const band =
    trend.start !== undefined && trend.allowed !== undefined
      ? [trend.start - trend.allowed, trend.start + trend.allowed]
      : undefined;
  let low = Math.min(...ys, ...(band ?? []));
  let high = Math.max(...ys, ...(band ?? []));
  if (high - low < 1e-9) [low, high] = [low - 2, high + 2];
  const pad = (high - low) * 0.06;
  // Every series here is a size, a count or a time: below zero is no place to draw.
  [low, high] = [Math.max(low - pad, Math.min(...ys) >= 0 ? 0 : -Infinity), high + pad];
  const sx = (t: number) => x0 + M.left + (t / maxT) * plotW;
  const sy = (y: number) => y0 + M.top + plotH - ((y - low) / (high - low)) * plotH;
  const out: string[] = [];
  const color = VERDICT_COLORS[trend.verdict];
  out.push(
    `<text x="${x0 + 8}" y="${y0 + 14}" font-size="11" font-weight="bold" fill="#111">${escape(spec.label)}</text>`,
    `<text x="${x0 + 8}" y="${y0 + 27}" font-size="10.5" fill="${color}">${escape(verdictLine(series))}</text>`,
    `<rect x="${sx(0)}" y="${y0 + M.top}" width="${sx(Math.min(warmupSec, maxT)) - sx(0)}" height="${plotH}" fill="#eeeeee"/>`,
  );
  if (band) {
    const top = sy(Math.min(band[1]!, high));
    const bottom = sy(Math.max(band[0]!, low));
    out.push(
      `<rect x="${sx(warmupSec)}" y="${top}" width="${sx(maxT) - sx(warmupSec)}" height="${bottom - top}" fill="#2a9d3a" fill-opacity="0.12"/>`,
    );
  }
  // Bytes tick at round KiB or MiB, not at round numbers of bytes.
  const scale = spec.unit !== 'bytes' ? 1 : high - low >= 2 ** 20 ? 2 ** 20 : high - low >= 1024 ? 1024 : 1;
  for (const y of ticksBetween(low / scale, high / scale).map((tick) => tick * scale)) {
    out.push(
      `<line x1="${sx(0)}" y1="${sy(y)}" x2="${sx(maxT)}" y2="${sy(y)}" stroke="#e6e6e6"/>`,
      `<text x="${sx(0) - 4}" y="${sy(y) + 3.5}" font-size="9.5" text-anchor="end" fill="#444">${escape(formatValue(y, spec.unit, true))}</text>`,
    );
  }
  // Minutes from two minutes on, at round minutes; seconds below.
  const perTick = maxT >= 120 ? 60 : 1;
  for (const tick of ticksBetween(0, maxT / perTick, 5)) {
    const label = perTick === 60 ? `${tick} min` : `${tick} s`;
    out.push(
      `<text x="${sx(tick * perTick)}" y="${y0 + M.top + plotH + 13}" font-size="9.5" text-anchor="middle" fill="#444">${label}</text>`,
    );
  }
  out.push(
    `<rect x="${sx(0)}" y="${y0 + M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
    `<polyline points="${points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}" fill="none" ` +
      `stroke="${GROUP_COLORS[spec.group] ?? '#333'}" stroke-width="1.4" stroke-linejoin="round"/>`,
  );
  if (trend.slopePerHour !== undefined && trend.intercept !== undefined) {
    const slope = trend.slopePerHour / 3600;
    const from = points.find((p) => p.x >= warmupSec)?.x ?? warmupSec;
    const to = points.at(-1)!.x;
    const at = (t: number) => Math.min(high, Math.max(low, trend.intercept! + slope * t));
    out.push(
      `<line x1="${sx(from)}" y1="${sy(at(from))}" x2="${sx(to)}" y2="${sy(at(to))}" stroke="#111" stroke-width="1.2" stroke-dasharray="5 3"/>`,
    );
  }
  return out;
}

function verdictLine({ spec, trend }: JudgedSeries): string {
  if (trend.verdict === 'n/a') return 'n/a: too few samples after the warm-up';
  const change = formatValue(trend.end! - trend.start!, spec.unit, true, true);
  const slope = formatValue(trend.slopePerHour!, spec.unit, true, true);
  return `${trend.verdict}: ${change} start → end, trend ${slope}/h`;
}

/** All plotted series as one SVG, a row of panels per group. */
export function soakPlot(
  series: JudgedSeries[],
  options: { title: string; subtitle: string; durationSec: number; warmupSec: number },
): string {
  const plotted = series.filter((s) => s.spec.plot);
  const groups = [...new Set(plotted.map((s) => s.spec.group))];
  const maxT = Math.max(options.durationSec, ...plotted.flatMap((s) => s.points.map((p) => p.x)));
  const width = COLUMNS * PANEL_W + 20;
  const body: string[] = [];
  let y = 70;
  for (const group of groups) {
    const members = plotted.filter((s) => s.spec.group === group);
    body.push(
      `<text x="14" y="${y + 14}" font-size="14" font-weight="bold" fill="${GROUP_COLORS[group] ?? '#111'}">${escape(GROUP_TITLES[group])}</text>`,
    );
    y += 22;
    members.forEach((s, i) => {
      body.push(
        ...panel(
          s,
          10 + (i % COLUMNS) * PANEL_W,
          y + Math.floor(i / COLUMNS) * PANEL_H,
          maxT,
          options.warmupSec,
        ),
      );
    });
    y += Math.ceil(members.length / COLUMNS) * PANEL_H + 8;
  }
  return svgPage(
    { width, height: y + 10 },
    {
      ...options,
      note: 'grey: warm-up (not judged); green: the tolerance around the start level; dashed: the Theil–Sen trend',
    },
    body,
  );
}
