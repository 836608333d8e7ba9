/**
 * recordings.svg: over each camera's run, the service's CPU, its RSS and the bytes on disk, one
 * panel each, a line per camera, the time it recorded shaded. Pure.
 */
import { escape, svgPage } from '../report/svg.js';
import { ticksBetween } from '../soak/plot.js';
import { CAMERA_LABELS } from './report.js';
import type { CameraRun, Sample } from './types.js';

const PANEL_W = 400;
const PANEL_H = 270;
const M = { left: 58, right: 14, top: 40, bottom: 40 };
const CLK_TCK = 100;
const COLORS = { agent: '#1f5fbf', foreign: '#d9731a' } as const;

interface Point {
  x: number;
  y: number;
}

interface PanelSpec {
  title: string;
  /** The points of a run's samples. */
  points: (samples: readonly Sample[]) => Point[];
}

const PANELS: PanelSpec[] = [
  {
    title: 'Service (Node) CPU, % of one core',
    points: (samples) =>
      samples.slice(1).flatMap((s, i) => {
        const before = samples[i]!;
        const dt = s.t - before.t;
        // Readings at a phase boundary are milliseconds apart: no rate to draw from them.
        return dt < 0.5 ? [] : [{ x: s.t, y: ((s.serviceTicks - before.serviceTicks) / CLK_TCK / dt) * 100 }];
      }),
  },
  {
    title: 'Service RSS, MiB',
    points: (samples) => samples.map((s) => ({ x: s.t, y: s.serviceRssKb / 1024 })),
  },
  {
    title: 'Recordings on disk, MB',
    points: (samples) => samples.map((s) => ({ x: s.t, y: s.diskBytes / 1e6 })),
  },
];

function panel(spec: PanelSpec, runs: readonly CameraRun[], x0: number, y0: number): string[] {
  const plotW = PANEL_W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const lines = runs.map((run) => ({ run, points: spec.points(run.samples) }));
  const all = lines.flatMap((line) => line.points);
  const maxX = Math.max(1, ...all.map((p) => p.x));
  const maxY = Math.max(1, ...all.map((p) => p.y)) * 1.08;
  const sx = (x: number) => x0 + M.left + (x / maxX) * plotW;
  const sy = (y: number) => y0 + M.top + plotH - (y / maxY) * plotH;
  const out = [
    `<text x="${x0 + 8}" y="${y0 + 18}" font-size="13" font-weight="bold" fill="#111">${escape(spec.title)}</text>`,
  ];
  for (const { run } of lines) {
    const on = run.phases.find((phase) => phase.phase === 'on');
    if (!on) continue;
    out.push(
      `<rect x="${sx(on.from).toFixed(1)}" y="${y0 + M.top}" width="${(sx(on.to) - sx(on.from)).toFixed(1)}" ` +
        `height="${plotH}" fill="${COLORS[run.camera]}" fill-opacity="0.07"/>`,
    );
  }
  for (const tick of ticksBetween(0, maxY)) {
    out.push(
      `<line x1="${sx(0)}" y1="${sy(tick)}" x2="${sx(maxX)}" y2="${sy(tick)}" stroke="#e6e6e6"/>`,
      `<text x="${sx(0) - 4}" y="${sy(tick) + 3.5}" font-size="10" text-anchor="end" fill="#444">${tick}</text>`,
    );
  }
  for (const tick of ticksBetween(0, maxX, 5)) {
    out.push(
      `<text x="${sx(tick)}" y="${y0 + M.top + plotH + 14}" font-size="10" text-anchor="middle" fill="#444">${tick}</text>`,
    );
  }
  out.push(
    `<text x="${sx(maxX / 2)}" y="${y0 + M.top + plotH + 30}" font-size="11" text-anchor="middle" fill="#444">seconds into the camera's run</text>`,
    `<rect x="${sx(0)}" y="${y0 + M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  );
  lines.forEach(({ run, points }, i) => {
    out.push(
      `<polyline points="${points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}" ` +
        `fill="none" stroke="${COLORS[run.camera]}" stroke-width="1.6" stroke-linejoin="round"/>`,
      `<text x="${sx(0) + 8}" y="${y0 + M.top + 14 + i * 14}" font-size="10.5" fill="${COLORS[run.camera]}">${escape(CAMERA_LABELS[run.camera])}</text>`,
    );
  });
  return out;
}

export function recordingsPlot(
  runs: readonly CameraRun[],
  options: { title: string; subtitle: string },
): string {
  return svgPage(
    { width: PANELS.length * PANEL_W + 20, height: PANEL_H + 80 },
    { ...options, note: "shaded: recording on (in each camera's colour)" },
    PANELS.flatMap((spec, i) => panel(spec, runs, 10 + i * PANEL_W, 70)),
  );
}
