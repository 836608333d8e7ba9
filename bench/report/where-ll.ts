/**
 * "Where the time goes in LL-HLS" (the start path, each frame split with the part that carried it,
 * parts and segments, the player's hold-back) and the packager's memory and CPU. Pure.
 */
import type { SystemRun } from '../lib/types.js';
import { playerFigures, segmentFigures, startFigures } from './analysis.js';
import { decomposeParts, lowLatencyStart, packagerFigures, partFigures, roleFigures } from './analysis-ll.js';
import { kib, label, medP95, mib, ms, sec, table } from './format.js';

const probeOptions = (run: SystemRun) => {
  const line = Object.entries(run.commands).find(([k]) => /segmenter/.test(k))?.[1] ?? '';
  const take = (flag: string) => new RegExp(`${flag} (\\S+)`).exec(line)?.[1];
  return `-probesize ${take('-probesize') ?? 'n/a'}, -analyzeduration ${take('-analyzeduration') ?? 'n/a'}`;
};

function inShort(run: SystemRun): string[] {
  const st = startFigures(run.coldStarts);
  const ll = lowLatencyStart(run.coldStarts);
  const parts = partFigures(run);
  const d = decomposeParts(run);
  const p = playerFigures(run);
  const joiner = run.steady.lateJoiner;
  const dj = joiner && decomposeParts(run, joiner);
  const pj = joiner && playerFigures(run, joiner);
  return [
    `- **Start → manifest ${ms(st.toManifest.median)}**: the encoder’s first datagram after ` +
      `${ms(st.toFirstDatagram.median)}; the segmenter probes one packet (input probed ${ms(st.probe.median)} ` +
      `after the first datagram); the stream’s first segment (half a part, listed without its EXT-X-PART) ` +
      `is listed ${ms(ll.datagramToFirstSegment.median)} after the first datagram and the service answers with it; ` +
      `the first EXT-X-PART (${ms(ll.firstPart.median)}, in the next segment) ${ms(ll.datagramToFirstPart.median)} after the first datagram.`,
    `- **Manifest → first frame ${ms(st.manifestToFirstFrame.median)}**: hls.js starts only once the playlist ` +
      'lists a complete segment (it has nothing to load from a playlist of parts alone), the first one here; a ' +
      `player blocking for the next part learns of it ${ms(ll.firstSegmentToPartAfter.median)} later; ` +
      `the first frame comes ${ms(ll.firstSegmentToFirstFrame.median)} after the segment is listed.`,
    `- **Glass-to-glass mean ${ms(d.glassToGlass)}** = ${ms(d.segmentWait)} waiting for the part to end ` +
      `(half of the ${ms(parts.duration.median)} parts on average) + ${ms(d.packager)} until the part is listed + ` +
      `${ms(d.player)} in the player, where hls.js holds ${sec(p.hlsLatency)} behind the live edge ` +
      `(its target: ${sec(p.targetLatency)}; PART-HOLD-BACK ${sec(parts.partHoldBack)}).`,
    ...(dj && pj
      ? [
          `- **A viewer who joined the live stream**: glass-to-glass mean ${ms(dj.glassToGlass)} = ` +
            `${ms(dj.segmentWait)} waiting + ${ms(dj.packager)} packager + ${ms(dj.player)} in the player ` +
            `(hls.js ${sec(pj.hlsLatency)} behind the live edge; its target: ${sec(pj.targetLatency)}).`,
        ]
      : []),
  ];
}

/** The section for ours in LL-HLS. */
export function whereTheTimeGoesLowLatency(run: SystemRun): string {
  const st = startFigures(run.coldStarts);
  const ll = lowLatencyStart(run.coldStarts);
  const parts = partFigures(run);
  const seg = segmentFigures(run);
  const d = decomposeParts(run);
  const joiner = run.steady.lateJoiner;
  const dj = joiner && decomposeParts(run, joiner);
  const p = playerFigures(run);
  const pj = joiner && playerFigures(run, joiner);
  const head = ['', label(run)];
  return [
    'In short:',
    '',
    ...inShort(run),
    '',
    '1. **The start.** The service’s UDP ingest hands the segmenter the stream from the camera’s first',
    '   keyframe with its parameter sets, so it probes one packet; the packager lists the stream’s first',
    '   segment (half a part) as soon as it holds 0.1 s of frames, then a part (a segment of its own until',
    '   the camera’s second keyframe) every 200 ms. Medians (p95) over the cold starts; “listed” is what the bench’s HTTP reads saw',
    '   (polled every 20 ms until the playlist exists, then blocking reloads):',
    '',
    table(head, [
      ['probe options', probeOptions(run)],
      ['start → the encoder’s first datagram', medP95(st.toFirstDatagram)],
      ['first datagram → the segmenter has probed its input', medP95(st.probe)],
      ['first datagram → the first part listed', medP95(ll.datagramToFirstPart)],
      ['the first part’s duration', medP95(ll.firstPart)],
      ['start → the first part listed', medP95(ll.toFirstPart)],
      ['start → manifest ready (`POST /api/stream/start` answered 200)', medP95(st.toManifest)],
      ['first datagram → the first complete segment listed', medP95(ll.datagramToFirstSegment)],
      [
        'the first segment listed → the next segment’s first part listed (when a part-blocking player sees it)',
        medP95(ll.firstSegmentToPartAfter),
      ],
      ['the first segment listed → first frame', medP95(ll.firstSegmentToFirstFrame)],
      ['the first part listed → first frame', medP95(ll.firstPartToFirstFrame)],
      ['start → first frame on screen', medP95(st.toFirstFrame)],
    ]),
    '',
    '2. **Each displayed frame, split with the part that carried it.** A part’s capture span is its',
    '   segment’s first-frame stamp plus the durations of the parts before it; its end is the capture of',
    '   the frame after its last; “listed” is when the bench’s blocking reload for it was answered. Means,',
    '   so the parts add up:',
    '',
    table(
      ['share of glass-to-glass (mean over the frames placed)', label(run)],
      [
        ['frames placed in a part', `${d.frames}`],
        ['waiting for the part to end (capture → the part’s end)', ms(d.segmentWait)],
        ['packager: the part’s end → the part listed', ms(d.packager)],
        ['player: part listed → on screen (blocking reload, fetch, hold-back, decode)', ms(d.player)],
        ['sum = mean glass-to-glass of those frames', ms(d.glassToGlass)],
        ['viewer who joined a live stream: frames placed', `${dj?.frames ?? 'n/a'}`],
        ['viewer who joined: waiting for the part to end', ms(dj?.segmentWait)],
        ['viewer who joined: packager', ms(dj?.packager)],
        ['viewer who joined: player (part listed → on screen)', ms(dj?.player)],
        ['viewer who joined: sum = mean glass-to-glass', ms(dj?.glassToGlass)],
      ],
    ),
    '',
    '3. **Parts and segments.** Segments start on the camera’s keyframes (every 30 frames, 1 s); parts',
    '   are cut every 6 frames (200 ms at 30 fps):',
    '',
    table(head, [
      ['EXT-X-PART-INF PART-TARGET', sec(parts.partTarget, 3)],
      ['EXT-X-TARGETDURATION', seg.targetDuration === undefined ? 'n/a' : `${seg.targetDuration} s`],
      [
        'part duration, median (min – max)',
        `${ms(parts.duration.median)} (${ms(parts.duration.min)} – ${ms(parts.duration.max)})`,
      ],
      [
        'parts per segment, median (min – max)',
        `${parts.perSegment.median ?? 'n/a'} (${parts.perSegment.min ?? 'n/a'} – ${parts.perSegment.max ?? 'n/a'})`,
      ],
      [
        'parts seen / of them INDEPENDENT=YES / placed by a stamp',
        `${parts.count} / ${parts.independent} / ${parts.placed}`,
      ],
      [
        'EXTINF median (min – max)',
        `${ms(seg.extinf.median)} (${ms(seg.extinf.min)} – ${ms(seg.extinf.max)})`,
      ],
      ['segments seen / with a readable first-frame stamp', `${seg.extinf.count} / ${seg.stamped}`],
      ['part’s end → part listed, median (p95)', medP95(parts.availability)],
      [
        'segment’s end (the next keyframe captured) → segment listed, median (p95)',
        medP95(parts.segmentAvailability),
      ],
      [
        'EXT-X-PROGRAM-DATE-TIME − first frame’s stamp, median',
        seg.pdtOffset.count === 0 ? 'not written' : ms(seg.pdtOffset.median),
      ],
      [
        'the bench’s playlist reads per second (two blocking reloads at a time)',
        parts.readsPerSecond === undefined ? 'n/a' : parts.readsPerSecond.toFixed(1),
      ],
    ]),
    '',
    '4. **Player hold-back.** In low-latency mode hls.js aims PART-HOLD-BACK behind the live edge (the end',
    '   of the newest part), sampled once a second in the steady window:',
    '',
    table(head, [
      [
        'EXT-X-SERVER-CONTROL PART-HOLD-BACK (HOLD-BACK)',
        `${sec(parts.partHoldBack)} (${sec(parts.holdBack)})`,
      ],
      ['hls.js target latency (median)', sec(p.targetLatency)],
      ['hls.js measured latency from the live edge (median)', sec(p.hlsLatency)],
      ['forward buffer (median)', sec(p.bufferSeconds)],
      ['part listed → frame on screen (mean, from the split above)', ms(d.player)],
      [
        'viewer who joined a live stream: hls.js measured latency from the live edge (median)',
        sec(pj?.hlsLatency),
      ],
      ['viewer who joined: forward buffer (median)', sec(pj?.bufferSeconds)],
      ['viewer who joined: part listed → frame on screen (mean)', ms(dj?.player)],
    ]),
  ].join('\n');
}

const cpu = (figures: ReturnType<typeof roleFigures>) =>
  figures?.cpuMean === undefined
    ? 'n/a'
    : `${figures.cpuMean.toFixed(1)} % of one core (median ${figures.cpuMedian!.toFixed(1)} %)`;
const rss = (figures: ReturnType<typeof roleFigures>) =>
  figures?.rssMedian === undefined
    ? 'n/a'
    : `${figures.rssMedian.toFixed(1)} MiB (max ${figures.rssMax!.toFixed(1)} MiB)`;

/** The packager's memory over the window (its /metrics) against what the playlist lists, and the service's CPU. */
export function packagerSection(run: SystemRun, plain: SystemRun | undefined): string {
  const figures = packagerFigures(run);
  const web = roleFigures(run, 'web service');
  const segmenter = roleFigures(run, 'segmenter');
  const plainWeb = plain && roleFigures(plain, 'web service');
  const plainSegmenter = plain && roleFigures(plain, 'segmenter');
  const viewers = run.steady.lateJoiner
    ? 'two viewers (the first and, from its join, the late joiner)'
    : 'one viewer';
  if (!figures) return 'No /metrics samples in this run.';
  const max = (s: { max?: number }, f: (v: number) => string) => (s.max === undefined ? 'n/a' : f(s.max));
  return [
    'The packager runs inside the web service and keeps everything it serves in memory. `GET /metrics`',
    `was read every second of the steady window (${figures.samples} samples), beside what the playlist listed`,
    'at that moment (the bench fetched each segment once, so it knows their sizes). The service holds the',
    'listed segments, as many again for players that fetched the playlist just before one left it, and the',
    'parts of the newest segments (views into the segment once it is complete):',
    '',
    table(
      ['', 'median', 'max'],
      [
        ['`camstream_llhls_bytes_held`', mib(figures.bytesHeld.median), max(figures.bytesHeld, mib)],
        ['… at the end of the window', mib(figures.lastBytesHeld), ''],
        [
          'complete segments the playlist lists',
          `${figures.listedSegments.median ?? 'n/a'}`,
          max(figures.listedSegments, String),
        ],
        [
          'their bytes (what the playlist references, parts of the open segment aside)',
          mib(figures.listedBytes.median),
          max(figures.listedBytes, mib),
        ],
        [
          'bytes held ÷ bytes listed',
          figures.heldPerListed.median?.toFixed(2) ?? 'n/a',
          max(figures.heldPerListed, (v) => v.toFixed(2)),
        ],
        [
          '`camstream_llhls_segments_held`',
          `${figures.segmentsHeld.median ?? 'n/a'}`,
          max(figures.segmentsHeld, String),
        ],
        [
          '`camstream_llhls_parts_held`',
          `${figures.partsHeld.median ?? 'n/a'}`,
          max(figures.partsHeld, String),
        ],
        [
          '`camstream_llhls_waiting_requests` (held blocking reloads and parts)',
          `${figures.waitingRequests.median ?? 'n/a'}`,
          max(figures.waitingRequests, String),
        ],
        ['segment size (1 s of video)', kib(figures.segmentBytes.median), max(figures.segmentBytes, kib)],
        [
          'parts made per second (`camstream_llhls_parts_made`)',
          figures.partsPerSecond?.toFixed(2) ?? 'n/a',
          '',
        ],
      ],
    ),
    '',
    `The service’s cost for this one stream, from /proc over the same window, serving ${viewers} and the`,
    'bench’s own playlist reads and segment fetches' +
      (plain
        ? '; beside it, the same service in plain HLS (ffmpeg writes the files, @fastify/static serves them):'
        : ':'),
    '',
    table(
      ['', label(run), ...(plain ? [label(plain)] : [])],
      [
        ['web service (node) CPU, mean', cpu(web), ...(plain ? [cpu(plainWeb)] : [])],
        ['web service (node) RSS, median', rss(web), ...(plain ? [rss(plainWeb)] : [])],
        ['segmenter (ffmpeg) CPU, mean', cpu(segmenter), ...(plain ? [cpu(plainSegmenter)] : [])],
        ['segmenter (ffmpeg) RSS, median', rss(segmenter), ...(plain ? [rss(plainSegmenter)] : [])],
      ],
    ),
  ].join('\n');
}
