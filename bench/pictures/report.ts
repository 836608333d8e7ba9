/** bench:pictures' report: the figures as a Markdown table, with the machine they came from. */
import type { MachineInfo } from '../lib/machine.js';

export interface ViewerPhase {
  readonly viewers: number;
  readonly seconds: number;
  /** The camera's one MJPEG decoder (ffmpeg), % of one core. */
  readonly decoderCpu: number;
  /** The web service's Node process (copying each JPEG to each viewer), % of one core. */
  readonly serviceCpu: number;
  /** JPEGs a second each viewer got: median, and the slowest viewer's. */
  readonly fpsMedian: number;
  readonly fpsMin: number;
}

export interface PicturesFigures {
  readonly at: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly fps: number;
  readonly phases: readonly ViewerPhase[];
  readonly snapshot: { requests: number; medianMs: number; p95Ms: number; maxMs: number };
}

const f1 = (n: number) => n.toFixed(1);

export function renderReport(figures: PicturesFigures): string {
  const { machine, snapshot } = figures;
  const rows = figures.phases.map(
    (p) =>
      `| ${p.viewers} | ${f1(p.decoderCpu)} % | ${f1(p.serviceCpu)} % | ${f1(p.fpsMedian)} | ${f1(p.fpsMin)} | ${f1(p.seconds)} s |`,
  );
  return [
    '# Pictures: MJPEG decoder CPU and snapshot latency',
    '',
    `${figures.at}, \`${figures.command}\`. One camera (the agent's test source, 640×480), MJPEG at`,
    `${figures.fps} pictures a second, our service with a real Mosquitto; every viewer a fetch over`,
    'loopback from the bench process. CPU in % of one core, from /proc utime+stime.',
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.os}; load average at start`,
    `${machine.loadAverage.map(f1).join(' / ')} (a shared machine: other work skews the figures).`,
    '',
    '## MJPEG viewers',
    '',
    '| MJPEG viewers | decoder (ffmpeg) CPU | service (Node) CPU | pictures/s per viewer (median) | slowest viewer | measured |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    'The decoder runs once per camera whatever the number of viewers; the service copies each JPEG',
    'to each viewer, which is where more viewers cost.',
    '',
    '## snapshot.jpg while live',
    '',
    '| requests | median | p95 | max |',
    '| ---: | ---: | ---: | ---: |',
    `| ${snapshot.requests} | ${Math.round(snapshot.medianMs)} ms | ${Math.round(snapshot.p95Ms)} ms | ${Math.round(snapshot.maxMs)} ms |`,
    '',
    'One at a time, 250 ms apart, so that each decodes the latest keyframe and the frames after it',
    'afresh (requests at once share one decode).',
    '',
  ].join('\n');
}
