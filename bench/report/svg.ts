/** A small SVG line chart writer for the latency plot: axes, grid, labels, legend. Pure, no dependencies. */

export interface ChartSeries {
  label: string;
  color: string;
  /** SVG stroke-dasharray, for a dashed line. */
  dash?: string;
  /** x in seconds, y in ms. */
  points: { x: number; y: number }[];
}

export interface ReferenceLine {
  y: number;
  label: string;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  references?: ReferenceLine[];
  width?: number;
  height?: number;
}

/** Tick values from 0 to at least `max`, about `count` of them, at 1/2/5 × 10^k steps. */
export function niceTicks(max: number, count = 6): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A whole SVG document of panels, as the bench plots draw them: white, a bold title, a subtitle and an
 * optional note line under it, then `body`.
 */
export function svgPage(
  size: { width: number; height: number },
  heading: { title: string; subtitle: string; note?: string },
  body: readonly string[],
): string {
  const { width, height } = size;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="14" y="26" font-size="17" font-weight="bold" fill="#111">${escape(heading.title)}</text>`,
    `<text x="14" y="46" fill="#555">${escape(heading.subtitle)}</text>`,
    ...(heading.note === undefined
      ? []
      : [`<text x="14" y="62" fill="#555" font-size="11">${escape(heading.note)}</text>`]),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

const fmt = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(1));

/** A polyline per run of points without a gap longer than `gapX` (a stall shows as a break). */
function paths(
  points: { x: number; y: number }[],
  gapX: number,
  map: (p: { x: number; y: number }) => string,
) {
  const runs: string[][] = [];
  let current: string[] = [];
  let lastX = -Infinity;
  for (const point of points) {
    if (point.x - lastX > gapX && current.length > 0) {
      runs.push(current);
      current = [];
    }
    current.push(map(point));
    lastX = point.x;
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

const dashOf = (s: ChartSeries) => (s.dash ? ` stroke-dasharray="${s.dash}"` : '');

export function lineChart(series: ChartSeries[], options: ChartOptions): string {
  const width = options.width ?? 960;
  // The legend goes below the plot (inside it, it would hide lines that run near the bottom).
  const legendH = series.length * 22 + 10;
  const plotHeight = options.height ?? 520;
  const height = plotHeight + legendH + 12;
  const margin = { left: 84, right: 28, top: options.subtitle ? 76 : 56, bottom: 64 };
  const plotW = width - margin.left - margin.right;
  const plotH = plotHeight - margin.top - margin.bottom;
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(1, ...all.map((p) => p.x));
  const refs = options.references ?? [];
  const maxY = Math.max(1, ...all.map((p) => p.y), ...refs.map((r) => r.y * 1.1));
  const xTicks = niceTicks(maxX, 10);
  const yTicks = niceTicks(maxY, 6);
  const xMax = xTicks.at(-1)!;
  const yMax = yTicks.at(-1)!;
  const sx = (x: number) => margin.left + (x / xMax) * plotW;
  const sy = (y: number) => margin.top + plotH - (y / yMax) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="28" font-size="18" font-weight="bold" fill="#111">${escape(options.title)}</text>`,
  );
  if (options.subtitle) {
    out.push(`<text x="${margin.left}" y="50" fill="#555">${escape(options.subtitle)}</text>`);
  }
  // Grid and ticks.
  for (const y of yTicks) {
    out.push(
      `<line x1="${margin.left}" y1="${sy(y)}" x2="${margin.left + plotW}" y2="${sy(y)}" stroke="#e3e3e3"/>`,
      `<text x="${margin.left - 8}" y="${sy(y) + 4}" text-anchor="end" fill="#333">${fmt(y)}</text>`,
    );
  }
  for (const x of xTicks) {
    out.push(
      `<line x1="${sx(x)}" y1="${margin.top}" x2="${sx(x)}" y2="${margin.top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${sx(x)}" y="${margin.top + plotH + 20}" text-anchor="middle" fill="#333">${fmt(x)}</text>`,
    );
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${margin.left + plotW / 2}" y="${plotHeight - 18}" text-anchor="middle" fill="#111">${escape(options.xLabel)}</text>`,
    `<text transform="translate(22 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#111">${escape(options.yLabel)}</text>`,
  );
  for (const ref of refs) {
    out.push(
      `<line x1="${margin.left}" y1="${sy(ref.y)}" x2="${margin.left + plotW}" y2="${sy(ref.y)}" ` +
        `stroke="#2a9d3a" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      `<text x="${margin.left + 8}" y="${sy(ref.y) - 6}" fill="#2a7d32">${escape(ref.label)}</text>`,
    );
  }
  for (const s of series) {
    for (const run of paths(s.points, 0.5, (p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)) {
      out.push(
        `<polyline points="${run.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.6" stroke-linejoin="round"${dashOf(s)}/>`,
      );
    }
  }
  const legendW = Math.max(...series.map((s) => s.label.length)) * 7.4 + 44;
  const lx = margin.left;
  const ly = plotHeight;
  out.push(
    `<rect x="${lx}" y="${ly}" width="${legendW}" height="${legendH}" fill="#ffffff" fill-opacity="0.92" stroke="#bbb"/>`,
  );
  series.forEach((s, i) => {
    const y = ly + 20 + i * 22;
    out.push(
      `<line x1="${lx + 10}" y1="${y - 4}" x2="${lx + 32}" y2="${y - 4}" stroke="${s.color}" stroke-width="3"${dashOf(s)}/>`,
      `<text x="${lx + 38}" y="${y}" fill="#111">${escape(s.label)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
