/** report.md's WebRTC section and webrtc.svg: glass to glass, joins, the ratio to Janus, viewers. Pure. */
import { mean, median, summarize } from '../lib/stats.js';
import { medP95, ms, ratio, table } from '../report/format.js';
import { lineChart } from '../report/svg.js';
import { WEBRTC_SYSTEM_NAMES, type WebrtcRun, type WebrtcSystemName } from './types.js';

const COLORS: Record<WebrtcSystemName, string> = {
  'ours-webrtc': '#1f5fbf',
  'ours-webrtc-foreign': '#8a3fb8',
  janus: '#c0392b',
};

const latencies = (run: WebrtcRun) => run.steady.samples.map((s) => s.latencyMs);
/** The viewer's first step → its first frame (older samples.json: the request's figure). */
const fromBegin = (run: WebrtcRun) => run.joins.map((j) => j.fromBegin ?? j.toFirstFrame);
const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(1)} %`);

/** Mean CPU (% of one core) of a role over the steady window. */
const cpu = (run: WebrtcRun, role: string) => mean(run.resources[role]?.cpuPercent ?? []);

export function webrtcSection(runs: Partial<Record<WebrtcSystemName, WebrtcRun>>): string {
  const list = WEBRTC_SYSTEM_NAMES.flatMap((name) => runs[name] ?? []);
  const janus = runs.janus && median(latencies(runs.janus));
  const janusBegun = runs.janus && median(fromBegin(runs.janus));
  const out: string[] = [
    '',
    '## WebRTC',
    '',
    'One Chromium page per viewer, the same for every system (`bench/webrtc/page.ts`): a bare',
    'RTCPeerConnection receiving H.264, the stamp of every displayed frame read in a',
    'requestVideoFrameCallback (glass to glass = display time − capture stamp). Targets: median ≤ 150 ms,',
    'p95 ≤ 200 ms; first frame ≤ 1.2 s after the viewer’s request (1 s GOP). Viewers join a stream',
    'that is already live; the last one stays for the steady window.',
    '',
    ...list.map((run) => `- \`${run.system}\`: ${run.title}`),
    '',
    table(
      [
        'system',
        'glass to glass median (p95)',
        'frames',
        'ratio to Janus (median)',
        'request → first frame, median (max)',
        'first step → first frame, median (max)',
        'ratio to Janus (first step → first frame)',
        'request → answer, median',
      ],
      list.map((run) => {
        const joins = summarize(run.joins.map((j) => j.toFirstFrame));
        const begun = summarize(fromBegin(run));
        return [
          `\`${run.system}\``,
          medP95(summarize(latencies(run))),
          `${run.steady.samples.length} (${run.steady.unreadFrames} unread)`,
          run.system === 'janus' ? '1.00' : ratio(median(latencies(run)), janus),
          `${ms(joins.median)} (${ms(joins.max)}) over ${joins.count}`,
          `${ms(begun.median)} (${ms(begun.max)})`,
          run.system === 'janus' ? '1.00' : ratio(begun.median, janusBegun),
          ms(median(run.joins.map((j) => j.toAnswer))),
        ];
      }),
    ),
    '',
    'Request: ours, the WHEP `POST` (the page’s offer made and its candidates gathered before); Janus,',
    'the streaming plugin’s `watch` (then its offer, the page’s answer with its candidates, `start`).',
    'First step: the first thing the viewer does (ours: the page makes its offer; Janus: the watch',
    'request), so that the page’s own work is inside the figure for both: the comparable one.',
    'Each viewer joins the live stream whenever (1.5–2.5 s apart, not at a fixed phase of the GOP).',
    '',
    '### Resources in the steady window (one viewer), mean CPU % of one core and RSS',
    '',
    table(
      ['system', 'process', 'CPU', 'RSS (MiB, median)'],
      list.flatMap((run) =>
        Object.entries(run.resources).map(([role, series]) => [
          `\`${run.system}\``,
          role,
          pct(mean(series.cpuPercent)),
          (median(series.rssMiB) ?? NaN).toFixed(0),
        ]),
      ),
    ),
  ];
  const load = runs['ours-webrtc']?.load;
  if (load) {
    const perViewer = (load.serviceCpuLoaded - load.serviceCpuIdle) / load.viewers;
    const lost = load.packetsLost.reduce((a, b) => a + b, 0);
    const seconds = (load.durationMs / 1000).toFixed(0);
    const missing = load.framesSent?.map((sent, i) => Math.max(0, sent - load.framesReceived[i]!));
    out.push(
      '',
      `### ${load.viewers} viewers of one camera at once (ours-webrtc)`,
      '',
      `${load.viewers} WHEP viewers made with werift (\`test/helpers/whep-client.ts\`, in the bench’s own`,
      `process) connected together, then received for ${seconds} s (${load.framesExpected} frames at 30 fps`,
      'by the wall clock). Frames missing: per viewer, the frames the camera made between its first and',
      'last frame received (the span of their RTP timestamps, the stream’s own clock) less those received,',
      'so a camera slowed by a loaded machine is not counted as loss. The web service’s CPU over',
      `${seconds} s with no viewer, then with them, gives its CPU per viewer.`,
      '',
      table(
        [
          'viewers',
          'frames received per viewer (min–max)',
          'frames missing (all viewers)',
          'RTP packets lost (all viewers)',
          'service CPU, no viewer → all',
          'CPU per viewer',
        ],
        [
          [
            load.viewers,
            `${Math.min(...load.framesReceived)}–${Math.max(...load.framesReceived)}`,
            missing ? missing.reduce((a, b) => a + b, 0) : 'n/a',
            lost,
            `${pct(load.serviceCpuIdle)} → ${pct(load.serviceCpuLoaded)}`,
            pct(perViewer),
          ],
        ],
      ),
      '',
      `Frames received, viewer by viewer: ${load.framesReceived.join(', ')}.`,
    );
  }
  const single = runs['ours-webrtc'];
  if (single) {
    out.push(
      '',
      `The web service with one Chromium viewer (steady window): ${pct(cpu(single, 'web service (node, with the WebRTC output)'))} of one core, its segmenter included separately.`,
    );
  }
  const notes = list.flatMap((run) => run.notes);
  const commands = list.flatMap((run) =>
    Object.entries(run.commands).map(([what, line]) => `- ${run.system}, ${what}: \`${line}\``),
  );
  if (notes.length > 0) out.push('', ...notes.map((note) => `- ${note}`));
  if (commands.length > 0) out.push('', '### Commands', '', ...new Set(commands));
  return out.join('\n') + '\n';
}

export function webrtcChart(runs: WebrtcRun[]): string {
  return lineChart(
    runs.map((run) => ({
      label: `${run.system}: median ${Math.round(median(latencies(run)) ?? NaN)} ms`,
      color: COLORS[run.system],
      points: run.steady.samples.map((s) => ({ x: (s.at - run.steady.firstFrameAt) / 1000, y: s.latencyMs })),
    })),
    {
      title: 'WebRTC glass-to-glass latency, one point per displayed frame',
      subtitle:
        '640x480 @ 30 fps, 2 Mbps, 1 s GOP, loopback; Chromium, one bare RTCPeerConnection per viewer',
      xLabel: 'seconds since the viewer’s first frame',
      yLabel: 'glass-to-glass latency (ms)',
      references: [
        { y: 150, label: 'target: ≤ 150 ms median' },
        { y: 200, label: 'target: ≤ 200 ms p95' },
      ],
    },
  );
}
