/** Number formats, Markdown tables and the systems' column names, for the report. Pure. */
import type { MachineInfo } from '../lib/machine.js';
import type { Summary } from '../lib/stats.js';
import { SYSTEM_NAMES, type SystemName, type SystemRun } from '../lib/types.js';

export const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${Math.round(v)} ms`);
export const sec = (v: number | undefined, digits = 2) =>
  v === undefined ? 'n/a' : `${v.toFixed(digits)} s`;
export const mib = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(2)} MiB`;
export const kib = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${Math.round(bytes / 1024)} KiB`;
export const medP95 = (s: Summary) => (s.median === undefined ? 'n/a' : `${ms(s.median)} (p95 ${ms(s.p95)})`);
export const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? 'n/a' : (a / b).toFixed(2);
export const sub = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b;

const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
export const table = (head: string[], rows: (string | number)[][]) =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

/** The machine and versions a report was measured on (older results have no load average). */
export const machineTable = (machine: MachineInfo) =>
  table(
    ['', ''],
    [
      ['CPU', `${machine.cpu}, ${machine.cores} cores`],
      ['memory', `${machine.memoryGiB} GiB`],
      ['OS', machine.os],
      ['load average before the run (1, 5, 15 min)', machine.loadAverage?.join(', ') ?? 'n/a'],
      ...Object.entries(machine.versions).map(([name, version]) => [name, version]),
    ],
  );

/** ours in LL-HLS (the service's default); older results without `hlsMode` were plain HLS. */
export const isLowLatency = (run: SystemRun): boolean => run.system !== 'peer' && run.hlsMode === 'll';

/** A system's column heading. */
export function label(run: SystemRun | SystemName): string {
  const name = typeof run === 'string' ? run : run.system;
  if (name === 'peer') return 'peer (nginx-rtmp)';
  if (name === 'ours-plain') return 'ours (plain HLS)';
  if (name === 'ours-foreign') return 'ours (LL-HLS), foreign camera';
  return typeof run !== 'string' && !isLowLatency(run) ? 'ours (plain HLS)' : 'ours (LL-HLS)';
}

/** The runs of this report, in the order of their columns: ours, ours (foreign camera), ours plain, the peer. */
export function runsOf(runs: Partial<Record<SystemName, SystemRun>>): SystemRun[] {
  return SYSTEM_NAMES.flatMap((name) => runs[name] ?? []);
}

/** A table row with one cell per run: `f` for each. */
export const cells = (label: string, runs: SystemRun[], f: (run: SystemRun) => string) => [
  label,
  ...runs.map(f),
];
