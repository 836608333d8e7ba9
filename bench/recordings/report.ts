/** report.md of `npm run bench:recordings`: disk per hour, write rate, CPU and RSS on vs off, on-disk delay, MP4 download. Pure. */
import { machineTable, ms, ratio, table } from '../report/format.js';
import { cameraFigures, type CameraFigures } from './summary.js';
import type { RecordingsRun } from './types.js';

export const PLOT_FILE = 'recordings.svg';
export const PLOT_PNG = 'recordings.png';

export const CAMERA_LABELS = {
  agent: 'our agent (test source)',
  foreign: 'foreign camera (plain ffmpeg)',
} as const;

const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(1)} %`);
const mib = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(1)} MiB`);
const kBps = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v / 1000).toFixed(1)} kB/s`);
const thousands = (v: number) => Math.round(v).toLocaleString('en-US');

/** One sentence per camera: what a person wants first. */
function headline(f: CameraFigures): string {
  return (
    `**${CAMERA_LABELS[f.camera]}: ${thousands(f.mbPerHour)} MB per hour of recording** ` +
    `(${kBps(f.bytesPerSecond)} written, ${thousands(f.filesPerHour)} files an hour); the service's CPU ` +
    `${pct(f.off.serviceCpu)} → ${pct(f.on.serviceCpu)} of one core with recording off → on ` +
    `(× ${ratio(f.on.serviceCpu, f.off.serviceCpu)}), its RSS ${mib(f.off.serviceRssMiB)} → ` +
    `${mib(f.on.serviceRssMiB)}; a segment's bytes are on disk ${ms(f.onDisk.medianMs)} after its closing keyframe reached the service ` +
    `(p95 ${ms(f.onDisk.p95Ms)}); the MP4 of ${f.recordedSeconds.toFixed(1)} s downloads in ${ms(f.download.medianMs)}.`
  );
}

function figuresTable(figures: CameraFigures[]): string {
  const col = (f: (c: CameraFigures) => string) => figures.map(f);
  return table(
    ['', ...figures.map((f) => CAMERA_LABELS[f.camera])],
    [
      ['recorded (seconds of video, as listed)', ...col((f) => `${f.recordedSeconds.toFixed(2)} s`)],
      ['bytes on disk', ...col((f) => thousands(f.bytes))],
      ['**write rate** (bytes on disk / seconds recorded)', ...col((f) => kBps(f.bytesPerSecond))],
      ['**MB per hour** of recording (10⁶ bytes)', ...col((f) => `**${thousands(f.mbPerHour)} MB**`)],
      [
        'files per hour (a segment per ~4 s; a playlist and init segment per recording, one an hour)',
        ...col((f) => thousands(f.filesPerHour)),
      ],
      ['service (Node) CPU, recording off', ...col((f) => pct(f.off.serviceCpu))],
      ['service (Node) CPU, recording on', ...col((f) => pct(f.on.serviceCpu))],
      ['… on / off', ...col((f) => `× ${ratio(f.on.serviceCpu, f.off.serviceCpu)}`)],
      [
        'remuxer (ffmpeg) CPU, off / on (recording adds no process)',
        ...col((f) => `${pct(f.off.remuxerCpu)} / ${pct(f.on.remuxerCpu)}`),
      ],
      ['service RSS (median), recording off', ...col((f) => mib(f.off.serviceRssMiB))],
      ['service RSS (median), recording on', ...col((f) => mib(f.on.serviceRssMiB))],
      [
        'service write() bytes a second (all its files, pipes, sockets), off / on',
        ...col((f) => `${kBps(f.off.serviceWritesPerSecond)} / ${kBps(f.on.serviceWritesPerSecond)}`),
      ],
      [
        '**on disk after a segment closes** (its closing keyframe at the service → file written): median / p95 / max (segments)',
        ...col(
          (f) =>
            `${ms(f.onDisk.medianMs)} / ${ms(f.onDisk.p95Ms)} / ${ms(f.onDisk.maxMs)} (${f.onDisk.count})`,
        ),
      ],
      [
        '**MP4 download** of the recording: median (downloads), size, rate',
        ...col(
          (f) =>
            `${ms(f.download.medianMs)} (${f.download.count}), ${thousands(f.download.bytes ?? 0)} bytes, ` +
            `${f.download.mbPerSecond?.toFixed(1) ?? 'n/a'} MB/s`,
        ),
      ],
      [
        'MP4 duration (ffprobe)',
        ...col((f) => (f.mp4Seconds === undefined ? 'n/a' : `${f.mp4Seconds.toFixed(2)} s`)),
      ],
      [
        'seconds sampled, off / on',
        ...col((f) => `${f.off.seconds.toFixed(0)} s / ${f.on.seconds.toFixed(0)} s`),
      ],
    ],
  );
}

export function renderReport(run: RecordingsRun): string {
  const figures = run.cameras.map(cameraFigures);
  const errors = figures.flatMap((f) => f.errors.map((e) => `- ${CAMERA_LABELS[f.camera]}: ${e}`));
  const { options } = run;
  return [
    '# Recordings: disk per hour, write rate, CPU and RSS with recording on and off',
    '',
    `${run.startedAt}, \`${run.command}\`.`,
    '',
    `Per camera, a fresh service (\`RECORD=on-demand\`) and Mosquitto; the camera live throughout: a`,
    `${options.warmupSec} s warm-up, ${options.seconds / 2} s not recording, ${options.seconds} s recording`,
    '(`"record": true` on the running stream, then `"record": false`), and again',
    `${options.seconds / 2} s not recording, so that "off" is measured before and after "on" in the same`,
    'run. The service is read from /proc every second (CPU: utime + stime, % of one core; RSS: VmRSS;',
    'write(): /proc/<pid>/io wchar). "On disk after a segment closes": from its closing keyframe',
    "reaching the service (the keyframe's first datagram, timed by a UDP relay in the bench between",
    "the camera and the service) to inotify's last change to the segment's file. It includes the",
    'rest of the keyframe and the frame after it (the remuxer writes a frame once the next one',
    'arrives, ~33 ms at 30 fps), the remux, the fan-out and the write. The last segment, closed by the',
    'end of the recording rather than a keyframe, is left out. The MP4 is downloaded (remuxed by the',
    'service when asked) after the stream stopped.',
    '',
    ...(run.failure ? [`**The run failed**: ${run.failure}`, ''] : []),
    '## Summary',
    '',
    ...figures.flatMap((f) => [`- ${headline(f)}`]),
    '',
    '## Figures',
    '',
    figuresTable(figures),
    '',
    `![service CPU, RSS and bytes on disk over each run](${PLOT_FILE})`,
    '',
    "Disk use is the camera's bitrate: the recorder writes the fMP4 fragments the one remuxer already",
    'made (no second encode, no second ffmpeg), a segment of ~4 s per file, and rewrites a playlist of',
    'a few kB after each. One recording folder an hour at most (`MAX_RECORDING_MS`).',
    '',
    ...(errors.length > 0 ? ['## Errors', '', ...errors, ''] : []),
    '## Machine',
    '',
    'A shared machine: other work skews CPU figures; the on/off ratio comes from the same run.',
    '',
    machineTable(run.machine),
    '',
  ].join('\n');
}
