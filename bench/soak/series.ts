/**
 * The series a soak judges: how each is read from the samples, its unit, its tolerance, its group
 * in the report and the plot. Pure.
 */
import { judge, type Tolerance, type Trend } from './trend.js';
import { ROLE_LABELS, ROLES, type FdCounts, type Role, type SoakRun, type SoakSample } from './types.js';

export type Unit = 'MiB' | 'bytes' | 'count' | 'ms' | 'percent' | 'fps' | 's';
export type Group = 'memory' | 'fds' | 'disk' | 'latency' | 'packager' | 'cpu' | 'viewer';

export const GROUP_TITLES: Record<Group, string> = {
  memory: 'Memory',
  fds: 'Open file descriptors',
  disk: 'Disk',
  latency: 'Latency',
  packager: 'The LL-HLS packager (GET /metrics)',
  cpu: 'CPU',
  viewer: 'The viewer',
};

const MiB = 2 ** 20;

/** The tolerances, by kind of series: the rule as the report states it. */
export const TOLERANCES = {
  memory: { floor: 4, relative: 0.05, text: '≤ 4 MiB or 5 % of the start, whichever is more' },
  fds: { floor: 2, relative: 0, text: 'no net change beyond ±2' },
  diskBytes: { floor: 0, relative: 0, text: 'no growth at all' },
  diskFiles: { floor: 0, relative: 0, text: 'no growth at all' },
  // Chromium writes small state files to its profile now and then (preferences, history): the
  // viewer's side, allowed 1 MiB. Its HTTP cache is judged by the same rule: it keeps what the
  // service lets it keep.
  profileBytes: { floor: MiB, relative: 0, text: '≤ 1 MiB (the viewer’s own profile)' },
  profileFiles: { floor: 5, relative: 0, text: '≤ 5 files (the viewer’s own profile)' },
  latencyMs: { floor: 50, relative: 0, text: '≤ 50 ms' },
  latencySec: { floor: 0.05, relative: 0, text: '≤ 50 ms' },
  // The packager holds the listed segments, as many again and the last parts: about 3 MiB at 2 Mbps,
  // moving by a segment (≈ 250 KiB) with the sampling phase. Bounded means it stays within 1 MiB.
  packagerBytes: { floor: MiB, relative: 0, text: 'bounded: ≤ 1 MiB (≈ 4 segments at 2 Mbps)' },
  parts: { floor: 6, relative: 0, text: '≤ 6 (a segment’s parts, and one)' },
  segments: { floor: 2, relative: 0, text: '≤ 2' },
  waiting: { floor: 2, relative: 0, text: '≤ 2' },
  cpu: { floor: 5, relative: 0.1, text: '≤ 5 points or 10 % of the start' },
  fps: { floor: 1, relative: 0, text: '≤ 1 frame/s' },
  buffer: { floor: 0.2, relative: 0, text: '≤ 0.2 s' },
} satisfies Record<string, Tolerance>;

export interface SeriesSpec {
  id: string;
  group: Group;
  label: string;
  unit: Unit;
  tolerance: Tolerance;
  /** Drawn in the plot (the rest are in the table only). */
  plot: boolean;
  read(sample: SoakSample): number | undefined;
}

const proc = (role: Role) => (s: SoakSample) => s.processes[role];

function processSeries(): SeriesSpec[] {
  const memory = ROLES.map((role): SeriesSpec => ({
    id: `${role}.rss`,
    group: 'memory',
    label: `${ROLE_LABELS[role]}: RSS`,
    unit: 'MiB',
    tolerance: TOLERANCES.memory,
    plot: role !== 'chromium',
    read: (s) => proc(role)(s)?.rssMiB,
  }));
  const fds = ROLES.map((role): SeriesSpec => ({
    id: `${role}.fds`,
    group: 'fds',
    label: `${ROLE_LABELS[role]}: open fds`,
    unit: 'count',
    tolerance: TOLERANCES.fds,
    plot: role !== 'chromium',
    read: (s) => proc(role)(s)?.fds.total,
  }));
  const cpu = ROLES.map((role): SeriesSpec => ({
    id: `${role}.cpu`,
    group: 'cpu',
    label: `${ROLE_LABELS[role]}: CPU (% of one core)`,
    unit: 'percent',
    tolerance: TOLERANCES.cpu,
    plot: false,
    read: (s) => proc(role)(s)?.cpuPercent,
  }));
  return [...memory, ...fds, ...cpu];
}

/** A series maker for one group, unit and tolerance: `(id, label, read, plot?)`. */
const maker =
  (group: Group, unit: Unit, tolerance: Tolerance) =>
  (id: string, label: string, read: SeriesSpec['read'], plot = false): SeriesSpec => ({
    id,
    group,
    label,
    unit,
    tolerance,
    plot,
    read,
  });

const memory = maker('memory', 'MiB', TOLERANCES.memory);
const fds = maker('fds', 'count', TOLERANCES.fds);
const diskBytes = maker('disk', 'bytes', TOLERANCES.diskBytes);
const diskFiles = maker('disk', 'count', TOLERANCES.diskFiles);
const profileBytes = maker('disk', 'bytes', TOLERANCES.profileBytes);
const profileFiles = maker('disk', 'count', TOLERANCES.profileFiles);
const latencyMs = maker('latency', 'ms', TOLERANCES.latencyMs);
const latencySec = maker('latency', 's', TOLERANCES.latencySec);
const packagerBytes = maker('packager', 'bytes', TOLERANCES.packagerBytes);
const packager = (tolerance: Tolerance) => maker('packager', 'count', tolerance);
const fps = maker('viewer', 'fps', TOLERANCES.fps);
const buffer = maker('viewer', 's', TOLERANCES.buffer);

/** Every series, in the report's order (groups as in GROUP_TITLES). */
export const SERIES: SeriesSpec[] = [
  ...processSeries(),
  memory('renderer.anon', 'viewer’s renderer: RssAnon (its own)', (s) => s.processes.renderer?.anonMiB, true),
  memory('service.heap', 'web service: V8 heap used (/metrics)', (s) => s.service.heapUsedMiB, true),
  memory('service.external', 'web service: external, Buffers (/metrics)', (s) => s.service.externalMiB, true),
  memory('viewer.jsHeap', 'viewer’s page: JS heap used (CDP)', (s) => s.viewer.jsHeapUsedMiB, true),
  fds('service.fds', 'web service: open fds (/metrics)', (s) => s.service.openFds),
  diskBytes('disk.hls.bytes', 'HLS_DIR: bytes', (s) => s.disk.hlsDir.bytes, true),
  diskFiles('disk.hls.files', 'HLS_DIR: files', (s) => s.disk.hlsDir.files),
  diskBytes('disk.temp.bytes', 'other temporary files: bytes', (s) => s.disk.otherTemp.bytes, true),
  diskFiles('disk.temp.files', 'other temporary files: files', (s) => s.disk.otherTemp.files),
  profileBytes('disk.profile.bytes', 'viewer’s Chromium profile: bytes', (s) => s.disk.profile.bytes, true),
  profileFiles('disk.profile.files', 'viewer’s Chromium profile: files', (s) => s.disk.profile.files),
  profileBytes('disk.cache.bytes', 'of which its HTTP cache: bytes', (s) => s.disk.profileCache.bytes),
  latencyMs('latency.median', 'glass-to-glass: median', (s) => s.viewer.latencyMedianMs, true),
  latencyMs('latency.p95', 'glass-to-glass: p95', (s) => s.viewer.latencyP95Ms, true),
  latencySec('latency.hls', 'hls.js: distance from the live edge', (s) => s.viewer.hlsLatencySec),
  packagerBytes('packager.bytes', 'packager: bytes held', (s) => s.service.bytesHeld, true),
  packager(TOLERANCES.parts)('packager.parts', 'packager: parts held', (s) => s.service.partsHeld),
  packager(TOLERANCES.segments)(
    'packager.segments',
    'packager: segments held',
    (s) => s.service.segmentsHeld,
  ),
  packager(TOLERANCES.waiting)(
    'packager.waiting',
    'packager: requests held',
    (s) => s.service.waitingRequests,
  ),
  fps('viewer.fps', 'frames shown per second', (s) =>
    s.viewer.seconds > 0 ? s.viewer.frames / s.viewer.seconds : undefined,
  ),
  buffer('viewer.buffer', 'hls.js: buffered ahead of the playhead', (s) => s.viewer.bufferSec),
  buffer('viewer.buffered', 'video element: media buffered in all', (s) => s.viewer.mediaBufferedSec),
];

export interface JudgedSeries {
  spec: SeriesSpec;
  points: { x: number; y: number }[];
  trend: Trend;
}

const pointsOf = (run: SoakRun, read: SeriesSpec['read']) =>
  run.samples.flatMap((s) => {
    const y = read(s);
    return y === undefined || !Number.isFinite(y) ? [] : [{ x: s.t, y }];
  });

/** Every series of `run` with its verdict; series with no sample at all are left out. */
export function judgeAll(run: SoakRun): JudgedSeries[] {
  return SERIES.flatMap((spec) => {
    const points = pointsOf(run, spec.read);
    if (points.length === 0) return [];
    return [{ spec, points, trend: judge(points, run.warmupSec, spec.tolerance) }];
  });
}

export const FD_KINDS = [
  'socket',
  'pipe',
  'anon_inode',
  'file',
  'other',
] as const satisfies readonly (keyof FdCounts)[];

/** Each role's descriptors by kind, judged with the fd rule. */
export function judgeFdKinds(run: SoakRun): { role: Role; kind: (typeof FD_KINDS)[number]; trend: Trend }[] {
  return ROLES.flatMap((role) =>
    FD_KINDS.flatMap((kind) => {
      const points = pointsOf(run, (s) => s.processes[role]?.fds[kind]);
      return points.length === 0 ? [] : [{ role, kind, trend: judge(points, run.warmupSec, TOLERANCES.fds) }];
    }),
  );
}
