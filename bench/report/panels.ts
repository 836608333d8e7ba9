/**
 * Small multiples for the benches' step plots: one panel per figure, a point per step, lines over
 * the steps, x from zero (cameras, viewers). Pure.
 */
import { escape, svgPage } from './svg.js';
import { ticksBetween } from '../soak/plot.js';

const PANEL_W = 400;
const PANEL_H = 270;
const M = { left: 58, right: 14, top: 40, bottom: 40 };

export interface PanelLine<T> {
  label: string;
  color: string;
  dashed?: boolean;
  value: (step: T) => number | undefined;
}

export interface PanelSpec<T> {
  title: string;
  lines: PanelLine<T>[];
}

export interface StepPlot<T> {
  title: string;
  subtitle: string;
  /** The x axis: its label and each step's value. */
  xLabel: string;
  x: (step: T) => number;
  panels: PanelSpec<T>[];
}

function panel<T>(plot: StepPlot<T>, spec: PanelSpec<T>, steps: T[], x0: number, y0: number): string[] {
  const plotW = PANEL_W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const maxX = Math.max(2, ...steps.map(plot.x));
  const values = spec.lines.flatMap((line) => steps.map(line.value)).filter((v) => v !== undefined);
  const maxY = Math.max(1, ...values) * 1.08;
  const sx = (x: number) => x0 + M.left + (x / maxX) * plotW;
  const sy = (y: number) => y0 + M.top + plotH - (y / maxY) * plotH;
  const out = [
    `<text x="${x0 + 8}" y="${y0 + 18}" font-size="13" font-weight="bold" fill="#111">${escape(spec.title)}</text>`,
  ];
  for (const tick of ticksBetween(0, maxY)) {
    out.push(
      `<line x1="${sx(0)}" y1="${sy(tick)}" x2="${sx(maxX)}" y2="${sy(tick)}" stroke="#e6e6e6"/>`,
      `<text x="${sx(0) - 4}" y="${sy(tick) + 3.5}" font-size="10" text-anchor="end" fill="#444">${tick}</text>`,
    );
  }
  for (const tick of ticksBetween(0, maxX, 5).filter(Number.isInteger)) {
    out.push(
      `<text x="${sx(tick)}" y="${y0 + M.top + plotH + 14}" font-size="10" text-anchor="middle" fill="#444">${tick}</text>`,
    );
  }
  out.push(
    `<text x="${sx(maxX / 2)}" y="${y0 + M.top + plotH + 30}" font-size="11" text-anchor="middle" fill="#444">${escape(plot.xLabel)}</text>`,
    `<rect x="${sx(0)}" y="${y0 + M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  );
  spec.lines.forEach((line, i) => {
    const points = steps.flatMap((s) => {
      const y = line.value(s);
      return y === undefined ? [] : [{ x: plot.x(s), y }];
    });
    const dash = line.dashed ? ' stroke-dasharray="5 3"' : '';
    out.push(
      `<polyline points="${points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}" fill="none" stroke="${line.color}" stroke-width="1.8"${dash}/>`,
      ...points.map(
        (p) => `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${line.color}"/>`,
      ),
      `<text x="${sx(0) + 8}" y="${y0 + M.top + 14 + i * 14}" font-size="10.5" fill="${line.color}">${escape(line.label)}</text>`,
    );
  });
  return out;
}

export function stepPlot<T>(plot: StepPlot<T>, steps: T[]): string {
  return svgPage(
    { width: plot.panels.length * PANEL_W + 20, height: PANEL_H + 70 },
    plot,
    plot.panels.flatMap((spec, i) => panel(plot, spec, steps, 10 + i * PANEL_W, 60)),
  );
}
