/** The figures of each step, from its raw samples: medians over the window's 1-second samples. Pure. */
import { WHOLE_MACHINE, type ResourceSeries } from '../lib/resources.js';
import { mean, median, percentile } from '../lib/stats.js';
import { ENCODERS, SERVICE, segmenterRole, type StartTiming, type StepRun } from './types.js';

export interface StartFigures {
  count: number;
  failed: number;
  median?: number;
  p95?: number;
  /** Medians of the camera's part (request → its first frame) and of the service's (the rest). */
  cameraMedian?: number;
  serviceMedian?: number;
  /** Median of request → the camera told (its `starting` status): the command's way over MQTT. */
  commandMedian?: number;
}

export interface StepFigures {
  cameras: number;
  alone: StartFigures;
  together: StartFigures;
  /** The service process: CPU % of one core, RSS MiB (medians over the window), and per camera (÷ cameras). */
  serviceCpu?: number;
  serviceCpuPerCamera?: number;
  /** The service's CPU time ÷ the window (finer than the median of 1-second samples, which count in 1 % ticks). */
  serviceCpuTime?: number;
  serviceRss?: number;
  serviceRssPerCamera?: number;
  /** The service idle with every camera known, before the first start. */
  idleServiceRss?: number;
  /**
   * Per camera's segmenter: the median over cameras (CPU: each one's CPU time ÷ the window, see
   * windowCpu; RSS: each one's median); and the sum over them.
   */
  segmenterCpuPerCamera?: number;
  segmenterRssPerCamera?: number;
  segmentersCpu?: number;
  segmentersRss?: number;
  /** Private memory (USS) at the window's end: pages only that process maps, MiB. */
  servicePrivate?: number;
  segmenterPrivatePerCamera?: number;
  segmentersPrivate?: number;
  /** The bench's own cameras (their encoders) and every process on the machine: the load beside the service. */
  encodersCpu?: number;
  machineCpu?: number;
  /** Parts seen per second per camera (the median over cameras), and the longest wait for one. */
  partsPerSecond?: number;
  longestGapMs?: number;
  /** Start failures, failed playlist reloads, segmenter restarts in the window, anything else. */
  errors: { starts: number; playlist: number; restarts: number; other: number; total: number };
}

const cpuOf = (series: ResourceSeries | undefined) => median(series?.cpuPercent ?? []);
const rssOf = (series: ResourceSeries | undefined) => median(series?.rssMiB ?? []);
const perCamera = (value: number | undefined, cameras: number) =>
  value === undefined ? undefined : value / cameras;
const sum = (values: (number | undefined)[]) =>
  values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + v!, 0);

function startFigures(starts: StartTiming[]): StartFigures {
  const ok = starts.filter((s) => s.ok);
  const split = ok.filter((s) => s.cameraMs !== undefined);
  return {
    count: starts.length,
    failed: starts.length - ok.length,
    ...(ok.length > 0 && {
      median: median(ok.map((s) => s.ms))!,
      p95: percentile(
        ok.map((s) => s.ms),
        95,
      )!,
    }),
    ...(ok.some((s) => s.commandMs !== undefined) && {
      commandMedian: median(ok.flatMap((s) => s.commandMs ?? []))!,
    }),
    ...(split.length > 0 && {
      cameraMedian: median(split.map((s) => s.cameraMs!))!,
      serviceMedian: median(split.map((s) => s.ms - s.cameraMs!))!,
    }),
  };
}

/**
 * A process's CPU over the whole window: its CPU time ÷ the window's length (the mean of the
 * 1-second samples). For a process that uses about 1 % of a core, a 1-second sample counts 0 or 1
 * tick (0 % or 1 %), and their median says 0: the window's total is the figure that means something.
 */
export const windowCpu = (series: ResourceSeries | undefined) => mean(series?.cpuPercent ?? []);

export function stepFigures(step: StepRun): StepFigures {
  const { resources, durationSec } = step.window;
  const n = step.cameras;
  const segmenters = step.cameraIds.map((id) => resources[segmenterRole(id)]);
  const segmenterCpus = segmenters.map(windowCpu);
  const segmenterRsss = segmenters.map(rssOf);
  // Older samples.json files have no private memory.
  const segmenterPrivate = step.cameraIds.map((id) => step.privateMiB?.[segmenterRole(id)]);
  const serviceCpu = cpuOf(resources[SERVICE]);
  const serviceRss = rssOf(resources[SERVICE]);
  const starts = step.starts.filter((s) => !s.ok).length;
  const playlist = step.playlists.reduce((total, p) => total + p.errors, 0);
  const restarts = step.segmenterRestartsInWindow;
  // Start failures are counted above; the other messages are what is left.
  const other = step.errors.filter((e) => !e.startsWith('start of ')).length;
  return {
    cameras: n,
    alone: startFigures(step.starts.filter((s) => s.mode === 'alone')),
    together: startFigures(step.starts.filter((s) => s.mode === 'together')),
    ...defined({
      serviceCpu,
      serviceCpuPerCamera: perCamera(serviceCpu, n),
      serviceCpuTime: windowCpu(resources[SERVICE]),
      serviceRss,
      serviceRssPerCamera: perCamera(serviceRss, n),
      idleServiceRss: rssOf(step.idle[SERVICE]),
      segmenterCpuPerCamera: median(segmenterCpus.filter((v) => v !== undefined)),
      segmenterRssPerCamera: median(segmenterRsss.filter((v) => v !== undefined)),
      segmentersCpu: sum(segmenterCpus),
      segmentersRss: sum(segmenterRsss),
      servicePrivate: step.privateMiB?.[SERVICE],
      segmenterPrivatePerCamera: median(segmenterPrivate.filter((v) => v !== undefined)),
      segmentersPrivate: sum(segmenterPrivate),
      encodersCpu: cpuOf(resources[ENCODERS]),
      machineCpu: cpuOf(resources[WHOLE_MACHINE]),
      partsPerSecond: median(step.playlists.map((p) => p.advances / durationSec)),
      longestGapMs:
        step.playlists.length === 0 ? undefined : Math.max(...step.playlists.map((p) => p.longestGapMs)),
    }),
    errors: { starts, playlist, restarts, other, total: starts + playlist + restarts + other },
  };
}

/** Drops the undefined entries (exactOptionalPropertyTypes-friendly). */
function defined<T extends Record<string, number | undefined>>(values: T): Partial<Record<keyof T, number>> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<
    Record<keyof T, number>
  >;
}

/** A step's figures against the 1-camera step's: totals and per-camera figures, as ratios. */
export interface Ratios {
  cameras: number;
  serviceCpu?: number;
  serviceCpuPerCamera?: number;
  serviceRss?: number;
  serviceRssPerCamera?: number;
  /** (RSS − the 1-camera RSS) ÷ (cameras − 1): what one more camera costs the service, MiB. */
  rssPerAddedCamera?: number;
  segmenterCpuPerCamera?: number;
  startAlone?: number;
  startTogether?: number;
}

export function ratios(step: StepFigures, base: StepFigures): Ratios {
  const r = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? undefined : a / b;
  return {
    cameras: step.cameras,
    ...defined({
      serviceCpu: r(step.serviceCpu, base.serviceCpu),
      serviceCpuPerCamera: r(step.serviceCpuPerCamera, base.serviceCpuPerCamera),
      serviceRss: r(step.serviceRss, base.serviceRss),
      serviceRssPerCamera: r(step.serviceRssPerCamera, base.serviceRssPerCamera),
      rssPerAddedCamera:
        step.cameras > base.cameras && step.serviceRss !== undefined && base.serviceRss !== undefined
          ? (step.serviceRss - base.serviceRss) / (step.cameras - base.cameras)
          : undefined,
      segmenterCpuPerCamera: r(step.segmenterCpuPerCamera, base.segmenterCpuPerCamera),
      startAlone: r(step.alone.median, base.alone.median),
      startTogether: r(step.together.median, base.together.median),
    }),
  };
}

/**
 * Several runs of the same step as one (`--pairs` measures one camera several times): every start,
 * every sample and every playlist check together; the private memory, the median of the runs'.
 */
export function mergeSteps(steps: StepRun[]): StepRun {
  if (steps.length === 1) return steps[0]!;
  const first = steps[0]!;
  const concat = (pick: (s: StepRun) => Record<string, ResourceSeries>) => {
    const merged: Record<string, ResourceSeries> = {};
    for (const step of steps) {
      for (const [role, series] of Object.entries(pick(step))) {
        const into = (merged[role] ??= { cpuPercent: [], rssMiB: [] });
        into.cpuPercent.push(...series.cpuPercent);
        into.rssMiB.push(...series.rssMiB);
      }
    }
    return merged;
  };
  const roles = [...new Set(steps.flatMap((s) => Object.keys(s.privateMiB ?? {})))];
  return {
    ...first,
    idle: concat((s) => s.idle),
    starts: steps.flatMap((s) => s.starts),
    stops: steps.flatMap((s) => s.stops),
    window: {
      durationSec: steps.reduce((total, s) => total + s.window.durationSec, 0),
      resources: concat((s) => s.window.resources),
    },
    playlists: first.cameraIds.map((cameraId) => {
      const checks = steps.flatMap((s) => s.playlists.filter((p) => p.cameraId === cameraId));
      return {
        cameraId,
        advances: checks.reduce((total, p) => total + p.advances, 0),
        errors: checks.reduce((total, p) => total + p.errors, 0),
        longestGapMs: Math.max(0, ...checks.map((p) => p.longestGapMs)),
        errorMessages: checks.flatMap((p) => p.errorMessages).slice(0, 5),
      };
    }),
    privateMiB: Object.fromEntries(
      roles.map((role) => [role, median(steps.flatMap((s) => s.privateMiB?.[role] ?? []))!]),
    ),
    segmenterRestartsInWindow: steps.reduce((total, s) => total + s.segmenterRestartsInWindow, 0),
    notLiveAtEnd: steps.flatMap((s) => s.notLiveAtEnd),
    errors: steps.flatMap((s) => s.errors),
    load1: median(steps.map((s) => s.load1))!,
  };
}

/** The run's steps by camera count, repeated runs merged: ours, and the baseline's (if measured). */
export function groupSteps(steps: StepRun[]): { ours: StepRun[]; baseline?: StepRun } {
  const ours = steps.filter((s) => !s.baseline);
  const counts = [...new Set(ours.map((s) => s.cameras))].sort((a, b) => a - b);
  const baseline = steps.filter((s) => s.baseline);
  return {
    ours: counts.map((n) => mergeSteps(ours.filter((s) => s.cameras === n))),
    ...(baseline.length > 0 && { baseline: mergeSteps(baseline) }),
  };
}
