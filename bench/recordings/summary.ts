/** The figures of a camera's run, from its samples (samples.json): what report.md tabulates. Pure. */
import { median, percentile } from '../lib/stats.js';
import type { CameraRun, Phase, Sample } from './types.js';

/** Clock ticks per second (`getconf CLK_TCK`): 100 on every Linux this runs on. */
const CLK_TCK = 100;

export interface PhaseFigures {
  /** Seconds sampled. */
  readonly seconds: number;
  /** The service's Node process, % of one core. */
  readonly serviceCpu: number | undefined;
  /** The camera's remuxer (ffmpeg), % of one core. */
  readonly remuxerCpu: number | undefined;
  /** The service's RSS, median, MiB. */
  readonly serviceRssMiB: number | undefined;
  /** Bytes the service passed to write() a second (files, pipes, sockets). */
  readonly serviceWritesPerSecond: number | undefined;
}

export interface CameraFigures {
  readonly camera: CameraRun['camera'];
  /** Seconds of video recorded, as listed. */
  readonly recordedSeconds: number;
  readonly bytes: number;
  readonly bytesPerSecond: number;
  /** 10^6 bytes per hour of recording. */
  readonly mbPerHour: number;
  readonly files: number;
  /** Segments an hour, and the playlist and init segments of the one recording an hour. */
  readonly filesPerHour: number;
  readonly off: PhaseFigures;
  readonly on: PhaseFigures;
  /** From a segment's closing keyframe reaching the service to its bytes on disk, ms: every segment a keyframe closed. */
  readonly onDisk: { count: number; medianMs?: number; p95Ms?: number; maxMs?: number };
  readonly download: { count: number; medianMs?: number; bytes?: number; mbPerSecond?: number };
  readonly mp4Seconds: number | undefined;
  readonly errors: string[];
}

/** Sums over consecutive samples that are both in one of `phases`. */
function intervals(samples: readonly Sample[], phases: readonly Phase[]) {
  const spans: { seconds: number; from: Sample; to: Sample }[] = [];
  for (let i = 1; i < samples.length; i++) {
    const [from, to] = [samples[i - 1]!, samples[i]!];
    if (from.phase === to.phase && phases.includes(to.phase) && to.t > from.t) {
      spans.push({ seconds: to.t - from.t, from, to });
    }
  }
  return spans;
}

export function phaseFigures(samples: readonly Sample[], phases: readonly Phase[]): PhaseFigures {
  const spans = intervals(samples, phases);
  const seconds = spans.reduce((sum, span) => sum + span.seconds, 0);
  const rate = (delta: (span: (typeof spans)[number]) => number | undefined) => {
    let total = 0;
    let time = 0;
    for (const span of spans) {
      const d = delta(span);
      if (d === undefined || d < 0) continue; // a remuxer replaced between two samples
      total += d;
      time += span.seconds;
    }
    return time > 0 ? total / time : undefined;
  };
  const cpu = (ticks: number | undefined) => (ticks === undefined ? undefined : (ticks / CLK_TCK) * 100);
  const serviceCpu = rate((s) => s.to.serviceTicks - s.from.serviceTicks);
  const remuxerCpu = rate((s) =>
    s.to.remuxerTicks === undefined || s.from.remuxerTicks === undefined
      ? undefined
      : s.to.remuxerTicks - s.from.remuxerTicks,
  );
  const rss = median(samples.filter((s) => phases.includes(s.phase)).map((s) => s.serviceRssKb / 1024));
  return {
    seconds,
    serviceCpu: serviceCpu === undefined ? undefined : cpu(serviceCpu),
    remuxerCpu: remuxerCpu === undefined ? undefined : cpu(remuxerCpu),
    serviceRssMiB: rss,
    serviceWritesPerSecond: rate((s) => s.to.serviceWchar - s.from.serviceWchar),
  };
}

export function cameraFigures(run: CameraRun): CameraFigures {
  const recording = run.recording;
  const seconds = recording?.duration ?? 0;
  const bytes = recording?.bytes ?? 0;
  const perSecond = (n: number) => (seconds > 0 ? n / seconds : 0);
  const segments = recording?.segments.length ?? 0;
  const latencies = (recording?.segments ?? [])
    .filter((s) => !s.last && s.writtenMs !== undefined && s.keyframeMs !== undefined)
    .map((s) => s.writtenMs! - s.keyframeMs!);
  const ms = run.downloads.map((download) => download.ms);
  const downloadMs = median(ms);
  const downloadBytes = run.downloads[0]?.bytes;
  return {
    camera: run.camera,
    recordedSeconds: seconds,
    bytes,
    bytesPerSecond: perSecond(bytes),
    mbPerHour: (perSecond(bytes) * 3600) / 1e6,
    files: recording?.files ?? 0,
    // A segment per ~4 s, and each recording's playlist and init segments once: one recording an
    // hour at most (MAX_RECORDING_MS), so a short run does not count them again for every hour.
    filesPerHour: perSecond(segments) * 3600 + ((recording?.files ?? 0) - segments),
    off: phaseFigures(run.samples, ['off-before', 'off-after']),
    on: phaseFigures(run.samples, ['on']),
    onDisk: {
      count: latencies.length,
      ...(latencies.length > 0 && {
        medianMs: median(latencies),
        p95Ms: percentile(latencies, 95),
        maxMs: Math.max(...latencies),
      }),
    },
    download: {
      count: ms.length,
      ...(downloadMs !== undefined && {
        medianMs: downloadMs,
        bytes: downloadBytes,
        mbPerSecond: downloadBytes === undefined ? undefined : downloadBytes / 1e6 / (downloadMs / 1000),
      }),
    },
    mp4Seconds: run.mp4Seconds,
    errors: run.errors,
  };
}
