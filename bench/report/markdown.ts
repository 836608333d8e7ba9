/** report.md: the figures side by side, where the time goes, resources, the machine. Pure. */
import type { MachineInfo } from '../lib/machine.js';
import { summarize, type Summary } from '../lib/stats.js';
import type { SystemRun, ViewerRun } from '../lib/types.js';
import {
  decompose,
  latencyFigures,
  playerFigures,
  resourceFigures,
  segmentFigures,
  STALL_GRACE_MS,
  stallsOf,
  startFigures,
  type StartFigures,
} from './analysis.js';

export interface ReportInput {
  runs: Partial<Record<'ours' | 'peer', SystemRun>>;
  machine: MachineInfo;
  command: string;
  startedAt: Date;
  durationSec: number;
  coldStarts: number;
}

const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${Math.round(v)} ms`);
const sec = (v: number | undefined, digits = 2) => (v === undefined ? 'n/a' : `${v.toFixed(digits)} s`);
const medP95 = (s: Summary) => (s.median === undefined ? 'n/a' : `${ms(s.median)} (p95 ${ms(s.p95)})`);
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? 'n/a' : (a / b).toFixed(2);
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: (string | number)[][]) =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

function summaryTable(input: ReportInput): string {
  const { ours, peer } = input.runs;
  const so = ours && startFigures(ours.coldStarts);
  const sp = peer && startFigures(peer.coldStarts);
  const lo = ours && latencyFigures(ours.steady);
  const lp = peer && latencyFigures(peer.steady);
  const jo = ours?.steady.lateJoiner && latencyFigures(ours.steady.lateJoiner);
  const jp = peer?.steady.lateJoiner && latencyFigures(peer.steady.lateJoiner);
  const joinToFirst = (r: SystemRun | undefined) => {
    const j = r?.steady.lateJoiner;
    return j ? j.firstFrameAt - j.joinAt : undefined;
  };
  const start = (f: (s: StartFigures) => Summary, target: string, seed: string, nginx: string) => {
    const a = so && f(so);
    const b = sp && f(sp);
    return [a ? medP95(a) : 'n/a', b ? medP95(b) : 'n/a', ratio(a?.median, b?.median), target, seed, nginx];
  };
  const g2g = (f: (s: Summary) => number | undefined, target: string, seed: string, nginx: string) => {
    const a = lo && f(lo.all);
    const b = lp && f(lp.all);
    return [ms(a), ms(b), ratio(a, b), target, seed, nginx];
  };
  const count = (run: SystemRun | undefined, f: (r: SystemRun) => string) => (run ? f(run) : 'n/a');
  const stalls = (r: SystemRun, viewer: ViewerRun | undefined) => {
    if (!viewer) return 'n/a';
    const all = stallsOf(viewer);
    if (!all) return `${viewer.stalls ?? 'n/a'} (${ms(viewer.stallMs)}), page’s count`;
    const counted = all.filter((x) => !x.startUp);
    return `${counted.length} (${ms(counted.reduce((sum, x) => sum + x.durationMs, 0))})`;
  };
  const startUpStalls = (viewer: ViewerRun | undefined) => {
    const all = viewer && stallsOf(viewer);
    return all ? String(all.filter((x) => x.startUp).length) : 'n/a';
  };
  const grace = `${STALL_GRACE_MS / 1000} s`;
  return table(
    ['figure', 'ours', 'peer', 'ratio ours/peer', 'target here', 'brief: seed 004', 'brief: nginx-rtmp 1 s'],
    [
      [
        'start → manifest ready, median (p95)',
        ...start((s) => s.toManifest, '≤ 0.8 s LL-HLS; ≤ 1.5 s plain', '≈ 5.3 s', '≈ 1.1 s'),
      ],
      [
        'start → first frame on screen, median (p95)',
        ...start((s) => s.toFirstFrame, '≤ 1.2 s', '≈ 6 s', '≈ 1.7 s'),
      ],
      [
        'glass-to-glass, viewer there from the start, median',
        ...g2g((s) => s.median, '≤ 2.0 s plain; ≤ 0.9 s LL-HLS', '7-8 s', '1.9-2.1 s'),
      ],
      ['glass-to-glass, viewer there from the start, p95', ...g2g((s) => s.p95, '', '', '')],
      ['glass-to-glass, viewer there from the start, min', ...g2g((s) => s.min, '', '', '')],
      ['glass-to-glass, viewer there from the start, max', ...g2g((s) => s.max, '', '', '')],
      [
        'glass-to-glass, viewer there from the start, median of the second half (settled)',
        ms(lo?.settled.median),
        ms(lp?.settled.median),
        ratio(lo?.settled.median, lp?.settled.median),
        '',
        '',
        '',
      ],
      [
        'glass-to-glass, viewer who joined a live stream, median (p95)',
        jo?.all.median === undefined ? 'n/a' : medP95(jo.all),
        jp?.all.median === undefined ? 'n/a' : medP95(jp.all),
        ratio(jo?.all.median, jp?.all.median),
        '≤ 2.0 s plain',
        '',
        '',
      ],
      [
        'viewer who joined a live stream: opening the page → first frame',
        ms(joinToFirst(ours)),
        ms(joinToFirst(peer)),
        ratio(joinToFirst(ours), joinToFirst(peer)),
        '',
        '',
        '',
      ],
      [
        `stalls, viewer there from the start, from ${grace} after its first frame (total time)`,
        count(ours, (r) => stalls(r, r.steady)),
        count(peer, (r) => stalls(r, r.steady)),
        '',
        'none',
        '',
        '',
      ],
      [
        `stalls, viewer who joined a live stream, from ${grace} after its first frame (total time)`,
        count(ours, (r) => stalls(r, r.steady.lateJoiner)),
        count(peer, (r) => stalls(r, r.steady.lateJoiner)),
        '',
        'none',
        '',
        '',
      ],
      [
        `\`waiting\` events in a viewer’s first ${grace} (start-up, not counted above): from the start / joined`,
        count(ours, (r) => `${startUpStalls(r.steady)} / ${startUpStalls(r.steady.lateJoiner)}`),
        count(peer, (r) => `${startUpStalls(r.steady)} / ${startUpStalls(r.steady.lateJoiner)}`),
        '',
        '',
        '',
        '',
      ],
      [
        'unread frames (no stamp read)',
        count(ours, (r) => String(r.steady.unreadFrames ?? 'n/a')),
        count(peer, (r) => String(r.steady.unreadFrames ?? 'n/a')),
        '',
        '',
        '',
        '',
      ],
      [
        'dropped / total frames (video element)',
        count(ours, (r) => `${r.steady.droppedFrames ?? 'n/a'} / ${r.steady.totalFrames ?? 'n/a'}`),
        count(peer, (r) => `${r.steady.droppedFrames ?? 'n/a'} / ${r.steady.totalFrames ?? 'n/a'}`),
        '',
        '',
        '',
        '',
      ],
      [
        'glass-to-glass samples: from the start / joined',
        count(ours, (r) => `${r.steady.samples.length} / ${r.steady.lateJoiner?.samples.length ?? 'n/a'}`),
        count(peer, (r) => `${r.steady.samples.length} / ${r.steady.lateJoiner?.samples.length ?? 'n/a'}`),
        '',
        '',
        '',
        '',
      ],
    ],
  );
}

function startDetail(input: ReportInput): string {
  const { ours, peer } = input.runs;
  const so = ours && startFigures(ours.coldStarts);
  const sp = peer && startFigures(peer.coldStarts);
  const line = (label: string, f: (s: StartFigures) => Summary) => [
    label,
    so ? medP95(f(so)) : 'n/a',
    sp ? medP95(f(sp)) : 'n/a',
  ];
  const api = ours?.apiStarts ? medP95(summarize(ours.apiStarts)) : 'n/a';
  const cycles = (run: SystemRun | undefined, name: string) =>
    (run?.coldStarts ?? []).map((c) => [
      `${name} ${c.cycle}`,
      ms(c.toFirstDatagram),
      ms(c.toPlaylistFile),
      ms(c.toManifest),
      ms(c.toFirstFrame),
      ms(c.pageLoad),
    ]);
  return [
    table(
      ['step (median of the cold starts, p95)', 'ours', 'peer'],
      [
        line('start → the encoder’s first datagram', (s) => s.toFirstDatagram),
        line('first datagram → the receiving ffmpeg has probed its input', (s) => s.probe),
        line('first datagram → the playlist on disk lists a segment', (s) => s.datagramToPlaylist),
        line('EXTINF of the first segment', (s) => s.firstSegment),
        line('start → the playlist on disk lists a segment', (s) => s.toPlaylistFile),
        line('start → manifest ready (as defined below)', (s) => s.toManifest),
        line(
          'manifest ready → first frame (the player; the peer’s includes opening the page)',
          (s) => s.manifestToFirstFrame,
        ),
        line('opening the player page (peer only)', (s) => s.pageLoad),
        line('start → first frame on screen', (s) => s.toFirstFrame),
        ['POST /api/stream/start → 200, no browser (ours only)', api, '—'],
      ],
    ),
    '',
    'Each cold start:',
    '',
    table(
      [
        'cycle',
        'start → first datagram',
        'start → playlist on disk',
        'start → manifest',
        'start → first frame',
        'page load',
      ],
      [...cycles(ours, 'ours'), ...cycles(peer, 'peer')],
    ),
  ].join('\n');
}

/** The figures of one system in two sentences: what the start and the glass-to-glass time are made of. */
function inShort(run: SystemRun): string[] {
  const st = startFigures(run.coldStarts);
  const d = decompose(run);
  const p = playerFigures(run);
  const seg = segmentFigures(run);
  const name = run.system === 'ours' ? '**Ours**' : '**The peer**';
  const probe = st.probe.median;
  const firstSegment = st.datagramToPlaylist.median;
  const probeWords =
    probe === undefined || firstSegment === undefined
      ? 'the probe’s end was not seen'
      : probe < firstSegment
        ? `the probe ends ${ms(probe)} after the first datagram, before the first segment is complete, so it costs nothing beyond the first GOP`
        : `the probe ends ${ms(probe)} after the first datagram, after the first segment would have been complete: it delays the start by about ${ms(probe - (st.firstSegment.median ?? 0))}`;
  return [
    `- ${name}, start → manifest ${ms(st.toManifest.median)}: the encoder’s first datagram after ` +
      `${ms(st.toFirstDatagram.median)}, then ${ms(firstSegment)} until the playlist lists the first segment ` +
      `(its own length ${ms(st.firstSegment.median)}, i.e. one GOP; ${probeWords}); the first frame follows ` +
      `${ms(st.manifestToFirstFrame.median)} after the manifest` +
      (st.pageLoad.median === undefined ? '.' : ` (of which ${ms(st.pageLoad.median)} opening the page).`),
    `- ${name}, glass-to-glass mean ${ms(d.glassToGlass)} = ${ms(d.segmentWait)} waiting for the segment to end ` +
      `(half of the ${ms(seg.extinf.median)} segments on average) + ${ms(d.packager)} until the segment is listed + ` +
      `${ms(d.player)} in the player, where hls.js holds ${sec(p.hlsLatency)} behind the live edge ` +
      `(its target: ${sec(p.targetLatency)}).`,
    ...(run.steady.lateJoiner ? [lateJoinerInShort(run, run.steady.lateJoiner)] : []),
  ];
}

function lateJoinerInShort(run: SystemRun, joiner: ViewerRun): string {
  const name = run.system === 'ours' ? '**Ours**' : '**The peer**';
  const d = decompose(run, joiner);
  const p = playerFigures(run, joiner);
  return (
    `- ${name}, a viewer who joined the live stream: glass-to-glass mean ${ms(d.glassToGlass)} = ` +
    `${ms(d.segmentWait)} waiting + ${ms(d.packager)} packager (the same segments) + ${ms(d.player)} in the ` +
    `player, where hls.js holds ${sec(p.hlsLatency)} behind the live edge (its target: ${sec(p.targetLatency)}): ` +
    'a page that opens on a live stream starts at hls.js’s live sync point (its target behind the newest ' +
    'segment’s end) and stays there, while the viewer there from the start began on the first segment.'
  );
}

function whereTheTimeGoes(input: ReportInput): string {
  const { ours, peer } = input.runs;
  const systems = [ours, peer].filter((r): r is SystemRun => r !== undefined);
  const d = Object.fromEntries(systems.map((r) => [r.system, decompose(r)]));
  const dj = Object.fromEntries(
    systems.map((r) => [r.system, r.steady.lateJoiner && decompose(r, r.steady.lateJoiner)]),
  );
  const pj = Object.fromEntries(
    systems.map((r) => [r.system, r.steady.lateJoiner && playerFigures(r, r.steady.lateJoiner)]),
  );
  const seg = Object.fromEntries(systems.map((r) => [r.system, segmentFigures(r)]));
  const st = Object.fromEntries(systems.map((r) => [r.system, startFigures(r.coldStarts)]));
  const pl = Object.fromEntries(systems.map((r) => [r.system, playerFigures(r)]));
  const cell = (name: 'ours' | 'peer', f: () => string) => (input.runs[name] ? f() : 'n/a');
  const both = (label: string, f: (name: 'ours' | 'peer') => string) => [
    label,
    cell('ours', () => f('ours')),
    cell('peer', () => f('peer')),
  ];
  const probeOptions = (run: SystemRun | undefined) => {
    const line = Object.entries(run?.commands ?? {}).find(([k]) => /segmenter|remuxer/.test(k))?.[1] ?? '';
    const take = (flag: string) => new RegExp(`${flag} (\\S+)`).exec(line)?.[1];
    return `-probesize ${take('-probesize') ?? 'default (5000000)'}, -analyzeduration ${take('-analyzeduration') ?? 'default (5000000)'}`;
  };
  return [
    'In short:',
    '',
    ...systems.flatMap(inShort),
    '',
    'Each displayed frame’s glass-to-glass time, split with the segment that carried it (the capture',
    'time of each segment’s first frame is read off its stamp; “listed” is the first 20 ms poll of the',
    'playlist file that shows the segment). Means, so the parts add up:',
    '',
    table(
      ['share of glass-to-glass (mean over the frames placed)', 'ours', 'peer'],
      [
        both('frames placed in a segment', (n) => `${d[n]!.frames}`),
        both('waiting for the segment to end (capture → the next keyframe, which closes it)', (n) =>
          ms(d[n]!.segmentWait),
        ),
        both('packager: that keyframe captured → the segment listed in the playlist', (n) =>
          ms(d[n]!.packager),
        ),
        both('player: listed → on screen (playlist reload, fetch, hold-back, decode)', (n) =>
          ms(d[n]!.player),
        ),
        both('sum = mean glass-to-glass of those frames', (n) => ms(d[n]!.glassToGlass)),
        both('viewer who joined a live stream: frames placed', (n) => `${dj[n]?.frames ?? 'n/a'}`),
        both('viewer who joined: waiting for the segment to end', (n) => ms(dj[n]?.segmentWait)),
        both('viewer who joined: packager', (n) => ms(dj[n]?.packager)),
        both('viewer who joined: player (listed → on screen)', (n) => ms(dj[n]?.player)),
        both('viewer who joined: sum = mean glass-to-glass', (n) => ms(dj[n]?.glassToGlass)),
      ],
    ),
    '',
    '1. **Input probe.** The receiving ffmpeg (our segmenter; the peer’s remuxer reads its input with the',
    '   same options) probes the UDP input before it writes anything:',
    '',
    table(
      ['', 'ours', 'peer'],
      [
        both('probe options', (n) => probeOptions(input.runs[n])),
        both('first datagram → input probed (median)', (n) => ms(st[n]!.probe.median)),
        both('first datagram → first segment listed (median)', (n) => ms(st[n]!.datagramToPlaylist.median)),
        both('of which the first segment’s own length (EXTINF, median)', (n) =>
          ms(st[n]!.firstSegment.median),
        ),
        both('left for the probe and the write (difference)', (n) =>
          ms(sub(st[n]!.datagramToPlaylist.median, st[n]!.firstSegment.median)),
        ),
      ],
    ),
    '',
    '2. **GOP and segment length.** The camera sends a keyframe every 30 frames (1 s at 30 fps); a',
    '   segment can only start on one, so a frame waits on average half a segment before its segment',
    '   is complete (the “waiting” row above):',
    '',
    table(
      ['', 'ours', 'peer'],
      [
        both('EXT-X-TARGETDURATION', (n) =>
          seg[n]!.targetDuration === undefined ? 'n/a' : `${seg[n]!.targetDuration} s`,
        ),
        both(
          'EXTINF median (min – max)',
          (n) => `${ms(seg[n]!.extinf.median)} (${ms(seg[n]!.extinf.min)} – ${ms(seg[n]!.extinf.max)})`,
        ),
        both('segments seen in the steady window', (n) => `${seg[n]!.extinf.count}`),
      ],
    ),
    '',
    '3. **Segment availability.** From the capture of a segment’s frames to the segment in the playlist',
    '   (EXT-X-PROGRAM-DATE-TIME where the packager writes it, checked against the stamps):',
    '',
    table(
      ['', 'ours', 'peer'],
      [
        both(
          'segments with a readable first-frame stamp',
          (n) => `${seg[n]!.stamped} of ${seg[n]!.extinf.count}`,
        ),
        both('segment’s end (the next keyframe captured) → segment listed, median (p95)', (n) =>
          medP95(seg[n]!.availability),
        ),
        both('first frame captured → segment listed, median (p95)', (n) => medP95(seg[n]!.ageWhenListed)),
        both('EXT-X-PROGRAM-DATE-TIME − first frame’s stamp, median', (n) =>
          seg[n]!.pdtOffset.count === 0 ? 'not written' : ms(seg[n]!.pdtOffset.median),
        ),
      ],
    ),
    '',
    '4. **Player hold-back.** hls.js keeps the playhead a target distance behind the live edge (the end of',
    '   the newest listed segment); sampled once a second in the steady window. The viewer there from the',
    '   start began on the first segment as soon as it was listed, so it plays closer to the edge than the',
    '   target; a viewer who joins a live stream starts at the target and stays there:',
    '',
    table(
      ['', 'ours', 'peer'],
      [
        both('hls.js target latency (median)', (n) => sec(pl[n]!.targetLatency)),
        both('hls.js measured latency from the live edge (median)', (n) => sec(pl[n]!.hlsLatency)),
        both('forward buffer (median)', (n) => sec(pl[n]!.bufferSeconds)),
        both('segment listed → frame on screen (mean, from the split above)', (n) => ms(d[n]!.player)),
        both('viewer who joined a live stream: hls.js measured latency from the live edge (median)', (n) =>
          sec(pj[n]?.hlsLatency),
        ),
        both('viewer who joined: forward buffer (median)', (n) => sec(pj[n]?.bufferSeconds)),
        both('viewer who joined: segment listed → frame on screen (mean)', (n) => ms(dj[n]?.player)),
      ],
    ),
  ].join('\n');
}

function lateJoinerNote(input: ReportInput): string[] {
  const joiners = [input.runs.ours, input.runs.peer].flatMap((r) => r?.steady.lateJoiner ?? []);
  if (joiners.length === 0) return ['- **Viewer who joined a live stream**: not measured in this run.'];
  const delays = joiners.map((j) => `${(j.joinDelayMs / 1000).toFixed(1)} s`).join(' and ');
  const windows = joiners.map((j) => `${((j.endedAt - j.firstFrameAt) / 1000).toFixed(1)} s`).join(' and ');
  return [
    '- **Viewer who joined a live stream** (the late joiner): during the steady window, a second, fresh page',
    '  opens the live stream (ours: `/?stats=1`, no click; the peer: the same `?src=` URL) in a second Chromium',
    `  (idle until then), ${delays} after the first viewer’s first frame (ours and the peer);`,
    `  measured from its first frame until the window ends (${windows}). “Opening the page → first frame”`,
    '  runs from the navigation’s start. The resource figures include it from then on.',
  ];
}

function stallDetail(input: ReportInput): string {
  const rows: string[][] = [];
  for (const run of [input.runs.ours, input.runs.peer]) {
    if (!run) continue;
    const viewers: [string, ViewerRun | undefined][] = [
      ['there from the start', run.steady],
      ['joined a live stream', run.steady.lateJoiner],
    ];
    for (const [who, viewer] of viewers) {
      if (!viewer) continue;
      const stalls = stallsOf(viewer);
      if (!stalls) {
        rows.push([run.system, who, 'not logged', '', '', '', `${viewer.stalls ?? 'n/a'} (page’s count)`]);
        continue;
      }
      if (stalls.length === 0) rows.push([run.system, who, 'none', '', '', '', '']);
      for (const stall of stalls) {
        rows.push([
          run.system,
          who,
          `+${(stall.sinceFirstFrame / 1000).toFixed(2)} s`,
          `${stall.currentTime.toFixed(3)} s (${stall.readyState})`,
          ms(stall.durationMs),
          ms(stall.frameGapMs),
          stall.startUp ? `start-up (first ${STALL_GRACE_MS / 1000} s): not counted` : 'counted',
        ]);
      }
    }
  }
  return [
    'Every `waiting` event after a viewer’s first frame, with the playhead (`currentTime`; segments are 1 s',
    'long, so a playhead at the same fraction of a second each time is a segment boundary) and `readyState`',
    '(2: the current frame only, 4: enough data). “Frames” is the gap between the last frame shown before it',
    'and the first after: 33 ms at 30 fps means the picture did not freeze.',
    '',
    'A viewer there from the start begins on the first segment the moment it is listed, so about 1 s after',
    'its first frame the playhead reaches the end of that segment as the next one is being appended: a',
    '`waiting` event in its first 2 s is that start-up, not a stall in steady playback.',
    '',
    table(
      [
        'system',
        'viewer',
        'since its first frame',
        'playhead (readyState)',
        'waiting → playing/frame',
        'frames: gap around it',
        '',
      ],
      rows,
    ),
  ].join('\n');
}

const sub = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b;

function resources(input: ReportInput): string {
  const rows: string[][] = [];
  for (const run of [input.runs.ours, input.runs.peer]) {
    if (!run) continue;
    for (const r of resourceFigures(run)) {
      rows.push([
        run.system,
        r.role,
        r.cpuMedian === undefined
          ? 'n/a'
          : `${r.cpuMedian.toFixed(1)} (${r.cpuMean!.toFixed(1)}, ${r.cpuMax!.toFixed(1)})`,
        r.rssMedian === undefined ? 'n/a' : `${r.rssMedian.toFixed(1)} (${r.rssMax!.toFixed(1)})`,
      ]);
    }
  }
  return table(
    ['system', 'process', 'CPU, % of one core: median (mean, max)', 'RSS, MiB: median (max)'],
    rows,
  );
}

export function renderReport(input: ReportInput): string {
  const { ours, peer } = input.runs;
  const { machine } = input;
  const commands = [ours, peer]
    .filter((r): r is SystemRun => r !== undefined)
    .flatMap((r) => Object.entries(r.commands).map(([what, line]) => `- ${r.system}, ${what}: \`${line}\``));
  const notes = [ours, peer].flatMap((r) => r?.notes ?? []);
  return [
    '# Glass-to-glass latency and time to first frame: ours vs nginx-rtmp',
    '',
    `Measured ${input.startedAt.toISOString()} with \`${input.command}\`: ${input.coldStarts} cold starts and`,
    `${input.durationSec} s of steady playback per system, one after the other on the same machine. Source: the`,
    'camera agent’s stamped test source (640x480 @ 30 fps, libx264 ultrafast/zerolatency, 2 Mbps, keyframe every',
    '30 frames), the same agent CLI for both; player: the web client’s hls.js page with `?stats=1` in headless',
    'Chromium, which reads each displayed frame’s capture-time stamp (glass-to-glass = display time − stamp).',
    '',
    '![glass-to-glass latency over time](latency.svg)',
    '',
    '## Summary',
    '',
    summaryTable(input),
    '',
    '- **ours**: start = the click on Start; manifest ready = `POST /api/stream/start` answered 200 (the',
    '  service answers once the playlist lists a complete segment); first frame = the page’s first frame after the click.',
    '- **peer**: start = the bench spawns the remuxer (as our service spawns its segmenter), waits until it',
    '  listens, and publishes the start command over MQTT; manifest ready = nginx’s playlist on disk lists a',
    '  segment; first frame = the player page (opened at that moment, `?src=` player-only mode) shows its first frame.',
    '- p95 of the start figures is over the cold starts only; glass-to-glass is over every displayed frame of',
    '  the steady window (from the first frame of the last cold start).',
    ...lateJoinerNote(input),
    `- **Stalls**: the bench logs the video element’s \`waiting\` events with their time; a stall lasts until`,
    '  the next `playing` event or displayed frame (as the page’s own count has it). Counted from',
    `  ${STALL_GRACE_MS / 1000} s after the viewer’s first frame to the end of the window; those in the first`,
    `  ${STALL_GRACE_MS / 1000} s are start-up and listed apart. Each one is in “Stalls” below.`,
    ...notes.map((n) => `- ${n}`),
    '',
    '## Stalls',
    '',
    stallDetail(input),
    '',
    '## Start, step by step',
    '',
    startDetail(input),
    '',
    '## Where the time goes in plain HLS',
    '',
    whereTheTimeGoes(input),
    '',
    '## Resources',
    '',
    'Sampled every second during the steady window, from /proc (CPU: utime+stime deltas in 10 ms ticks, % of one',
    'core, so single values move in steps of 1 %; the mean is the total CPU time over the window; memory: VmRSS).',
    'A role sums its processes (Chromium: the browser and all its children, so pages they share count more than',
    'once). Agent and encoder are the same programs with the same settings for both systems: their rows show how',
    'steady the machine was; so does the whole machine’s row (its memory: MemTotal − MemAvailable).',
    '',
    resources(input),
    '',
    '## The machine',
    '',
    table(
      ['', ''],
      [
        ['CPU', `${machine.cpu}, ${machine.cores} cores`],
        ['memory', `${machine.memoryGiB} GiB`],
        ['OS', machine.os],
        ['load average before the run (1, 5, 15 min)', machine.loadAverage?.join(', ') ?? 'n/a'],
        ...Object.entries(machine.versions).map(([name, version]) => [name, version]),
      ],
    ),
    '',
    '## Commands that ran',
    '',
    `- the bench: \`${input.command}\``,
    ...commands,
    '',
    'Raw data: `samples.json` (every glass-to-glass sample, segment, cold start and resource sample);',
    'the plot: `latency.svg` (and `latency.png`); the peer’s nginx config as run: `peer-nginx.conf`.',
    '',
  ].join('\n');
}
