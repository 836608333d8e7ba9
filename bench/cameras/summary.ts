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
}

export interface StepFigures {
  cameras: number;
  alone: StartFigures;
  together: StartFigures;
  /** The service process: CPU % of one core, RSS MiB (medians over the window), and per camera (÷ cameras). */
  serviceCpu?: number;
  serviceCpuPerCamera?: number;
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
  /** PSS at the window's end (shared pages split among the processes that map them), MiB. */
  servicePss?: number;
  segmenterPssPerCamera?: number;
  segmentersPss?: number;
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
  // Older samples.json files have no PSS.
  const segmenterPss = step.cameraIds.map((id) => step.pssMiB?.[segmenterRole(id)]);
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
      serviceRss,
      serviceRssPerCamera: perCamera(serviceRss, n),
      idleServiceRss: rssOf(step.idle[SERVICE]),
      segmenterCpuPerCamera: median(segmenterCpus.filter((v) => v !== undefined)),
      segmenterRssPerCamera: median(segmenterRsss.filter((v) => v !== undefined)),
      segmentersCpu: sum(segmenterCpus),
      segmentersRss: sum(segmenterRsss),
      servicePss: step.pssMiB?.[SERVICE],
      segmenterPssPerCamera: median(segmenterPss.filter((v) => v !== undefined)),
      segmentersPss: sum(segmenterPss),
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
