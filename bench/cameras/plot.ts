/**
 * cameras.svg: the service's CPU and memory, and the start time, against the number of cameras: one
 * panel each, a point per step, the medians report.md gives. Pure.
 */
import { escape } from '../soak/format.js';
import { ticksBetween } from '../soak/plot.js';
import type { StepFigures } from './summary.js';

const PANEL_W = 380;
const PANEL_H = 270;
const M = { left: 58, right: 14, top: 40, bottom: 40 };

interface Line {
  label: string;
  color: string;
  dashed?: boolean;
  value: (f: StepFigures) => number | undefined;
}

const add = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a + b;

const PANELS: { title: string; unit: string; lines: Line[] }[] = [
  {
    title: 'CPU (% of one core)',
    unit: '%',
    lines: [
      { label: 'service + segmenters', color: '#1f5fbf', value: (f) => add(f.serviceCpu, f.segmentersCpu) },
      { label: 'service (Node)', color: '#2a8f6a', value: (f) => f.serviceCpu },
      { label: 'segmenters (ffmpeg)', color: '#d9731a', value: (f) => f.segmentersCpu },
      { label: 'cameras’ encoders (bench)', color: '#999', dashed: true, value: (f) => f.encodersCpu },
    ],
  },
  {
    title: 'Memory (MiB; private: its own pages)',
    unit: 'MiB',
    lines: [
      {
        label: 'service + segmenters, private',
        color: '#1f5fbf',
        value: (f) => add(f.servicePrivate, f.segmentersPrivate),
      },
      { label: 'service (Node), private', color: '#2a8f6a', value: (f) => f.servicePrivate },
      { label: 'segmenters (ffmpeg), private', color: '#d9731a', value: (f) => f.segmentersPrivate },
      { label: 'service (Node), RSS', color: '#999', dashed: true, value: (f) => f.serviceRss },
    ],
  },
  {
    title: 'Start → 200 live (median, ms)',
    unit: 'ms',
    lines: [
      { label: 'one at a time', color: '#2a8f6a', value: (f) => f.alone.median },
      { label: 'all together', color: '#c62828', value: (f) => f.together.median },
      {
        label: 'all together: the service’s part',
        color: '#c62828',
        dashed: true,
        value: (f) => f.together.serviceMedian,
      },
    ],
  },
];

function panel(spec: (typeof PANELS)[number], figures: StepFigures[], x0: number, y0: number): string[] {
  const plotW = PANEL_W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const maxX = Math.max(2, ...figures.map((f) => f.cameras));
  const values = spec.lines.flatMap((line) => figures.map(line.value)).filter((v) => v !== undefined);
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
    `<text x="${sx(maxX / 2)}" y="${y0 + M.top + plotH + 30}" font-size="11" text-anchor="middle" fill="#444">cameras</text>`,
    `<rect x="${sx(0)}" y="${y0 + M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  );
  spec.lines.forEach((line, i) => {
    const points = figures.flatMap((f) => {
      const y = line.value(f);
      return y === undefined ? [] : [{ x: f.cameras, y }];
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

export function camerasPlot(figures: StepFigures[], options: { title: string; subtitle: string }): string {
  const width = PANELS.length * PANEL_W + 20;
  const height = PANEL_H + 70;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="14" y="26" font-size="17" font-weight="bold" fill="#111">${escape(options.title)}</text>`,
    `<text x="14" y="46" fill="#555">${escape(options.subtitle)}</text>`,
    ...PANELS.flatMap((spec, i) => panel(spec, figures, 10 + i * PANEL_W, 60)),
    '</svg>',
    '',
  ].join('\n');
}
