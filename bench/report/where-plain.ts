/** "Where the time goes in plain HLS": the probe, the GOP, segment availability, the player's hold-back. Pure. */
import type { SystemRun, ViewerRun } from '../lib/types.js';
import { decompose, playerFigures, segmentFigures, startFigures } from './analysis.js';
import { cells, label, medP95, ms, sec, sub, table } from './format.js';

const nameOf = (run: SystemRun) => `**${label(run)}**`;

/** The figures of one system in two sentences: what the start and the glass-to-glass time are made of. */
function inShort(run: SystemRun): string[] {
  const st = startFigures(run.coldStarts);
  const d = decompose(run);
  const p = playerFigures(run);
  const seg = segmentFigures(run);
  const probe = st.probe.median;
  const firstSegment = st.datagramToPlaylist.median;
  const probeWords =
    probe === undefined || firstSegment === undefined
      ? 'the probe’s end was not seen'
      : probe < firstSegment
        ? `the probe ends ${ms(probe)} after the first datagram, before the first segment is complete, so it costs nothing beyond the first GOP`
        : `the probe ends ${ms(probe)} after the first datagram, after the first segment would have been complete: it delays the start by about ${ms(probe - (st.firstSegment.median ?? 0))}`;
  return [
    `- ${nameOf(run)}, start → manifest ${ms(st.toManifest.median)}: the encoder’s first datagram after ` +
      `${ms(st.toFirstDatagram.median)}, then ${ms(firstSegment)} until the playlist lists the first segment ` +
      `(its own length ${ms(st.firstSegment.median)}, i.e. one GOP; ${probeWords}); the first frame follows ` +
      `${ms(st.manifestToFirstFrame.median)} after the manifest` +
      (st.pageLoad.median === undefined ? '.' : ` (of which ${ms(st.pageLoad.median)} opening the page).`),
    `- ${nameOf(run)}, glass-to-glass mean ${ms(d.glassToGlass)} = ${ms(d.segmentWait)} waiting for the segment to end ` +
      `(half of the ${ms(seg.extinf.median)} segments on average) + ${ms(d.packager)} until the segment is listed + ` +
      `${ms(d.player)} in the player, where hls.js holds ${sec(p.hlsLatency)} behind the live edge ` +
      `(its target: ${sec(p.targetLatency)}).`,
    ...(run.steady.lateJoiner ? [lateJoinerInShort(run, run.steady.lateJoiner)] : []),
  ];
}

function lateJoinerInShort(run: SystemRun, joiner: ViewerRun): string {
  const d = decompose(run, joiner);
  const p = playerFigures(run, joiner);
  return (
    `- ${nameOf(run)}, a viewer who joined the live stream: glass-to-glass mean ${ms(d.glassToGlass)} = ` +
    `${ms(d.segmentWait)} waiting + ${ms(d.packager)} packager (the same segments) + ${ms(d.player)} in the ` +
    `player, where hls.js holds ${sec(p.hlsLatency)} behind the live edge (its target: ${sec(p.targetLatency)}): ` +
    'a page that opens on a live stream starts at hls.js’s live sync point (its target behind the newest ' +
    'segment’s end) and stays there, while the viewer there from the start began on the first segment.'
  );
}

const probeOptions = (run: SystemRun) => {
  const line = Object.entries(run.commands).find(([k]) => /segmenter|remuxer/.test(k))?.[1] ?? '';
  const take = (flag: string) => new RegExp(`${flag} (\\S+)`).exec(line)?.[1];
  return `-probesize ${take('-probesize') ?? 'default (5000000)'}, -analyzeduration ${take('-analyzeduration') ?? 'default (5000000)'}`;
};

/** The section for the plain-HLS systems in `runs` (ours with HLS_MODE=plain, the peer). */
export function whereTheTimeGoesPlain(runs: SystemRun[]): string {
  const d = new Map(runs.map((r) => [r, decompose(r)]));
  const dj = new Map(runs.map((r) => [r, r.steady.lateJoiner && decompose(r, r.steady.lateJoiner)]));
  const pj = new Map(runs.map((r) => [r, r.steady.lateJoiner && playerFigures(r, r.steady.lateJoiner)]));
  const seg = new Map(runs.map((r) => [r, segmentFigures(r)]));
  const st = new Map(runs.map((r) => [r, startFigures(r.coldStarts)]));
  const pl = new Map(runs.map((r) => [r, playerFigures(r)]));
  const row = (text: string, f: (run: SystemRun) => string) => cells(text, runs, f);
  const head = ['', ...runs.map(label)];
  return [
    'In short:',
    '',
    ...runs.flatMap(inShort),
    '',
    'Each displayed frame’s glass-to-glass time, split with the segment that carried it (the capture',
    'time of each segment’s first frame is read off its stamp; “listed” is the first 20 ms poll of the',
    'playlist file that shows the segment). Means, so the parts add up:',
    '',
    table(
      ['share of glass-to-glass (mean over the frames placed)', ...runs.map(label)],
      [
        row('frames placed in a segment', (r) => `${d.get(r)!.frames}`),
        row('waiting for the segment to end (capture → the next keyframe, which closes it)', (r) =>
          ms(d.get(r)!.segmentWait),
        ),
        row('packager: that keyframe captured → the segment listed in the playlist', (r) =>
          ms(d.get(r)!.packager),
        ),
        row('player: listed → on screen (playlist reload, fetch, hold-back, decode)', (r) =>
          ms(d.get(r)!.player),
        ),
        row('sum = mean glass-to-glass of those frames', (r) => ms(d.get(r)!.glassToGlass)),
        row('viewer who joined a live stream: frames placed', (r) => `${dj.get(r)?.frames ?? 'n/a'}`),
        row('viewer who joined: waiting for the segment to end', (r) => ms(dj.get(r)?.segmentWait)),
        row('viewer who joined: packager', (r) => ms(dj.get(r)?.packager)),
        row('viewer who joined: player (listed → on screen)', (r) => ms(dj.get(r)?.player)),
        row('viewer who joined: sum = mean glass-to-glass', (r) => ms(dj.get(r)?.glassToGlass)),
      ],
    ),
    '',
    '1. **Input probe.** The receiving ffmpeg (our segmenter; the peer’s remuxer reads its input with the',
    '   options of the service’s default, LL-HLS, when that ran) probes the UDP input before it writes anything:',
    '',
    table(head, [
      row('probe options', probeOptions),
      row('first datagram → input probed (median)', (r) => ms(st.get(r)!.probe.median)),
      row('first datagram → first segment listed (median)', (r) => ms(st.get(r)!.datagramToPlaylist.median)),
      row('of which the first segment’s own length (EXTINF, median)', (r) =>
        ms(st.get(r)!.firstSegment.median),
      ),
      row('left for the probe and the write (difference)', (r) =>
        ms(sub(st.get(r)!.datagramToPlaylist.median, st.get(r)!.firstSegment.median)),
      ),
    ]),
    '',
    '2. **GOP and segment length.** The camera sends a keyframe every 30 frames (1 s at 30 fps); a',
    '   segment can only start on one, so a frame waits on average half a segment before its segment',
    '   is complete (the “waiting” row above):',
    '',
    table(head, [
      row('EXT-X-TARGETDURATION', (r) =>
        seg.get(r)!.targetDuration === undefined ? 'n/a' : `${seg.get(r)!.targetDuration} s`,
      ),
      row('EXTINF median (min – max)', (r) => {
        const { extinf } = seg.get(r)!;
        return `${ms(extinf.median)} (${ms(extinf.min)} – ${ms(extinf.max)})`;
      }),
      row('segments seen in the steady window', (r) => `${seg.get(r)!.extinf.count}`),
    ]),
    '',
    '3. **Segment availability.** From the capture of a segment’s frames to the segment in the playlist',
    '   (EXT-X-PROGRAM-DATE-TIME where the packager writes it, checked against the stamps):',
    '',
    table(head, [
      row(
        'segments with a readable first-frame stamp',
        (r) => `${seg.get(r)!.stamped} of ${seg.get(r)!.extinf.count}`,
      ),
      row('segment’s end (the next keyframe captured) → segment listed, median (p95)', (r) =>
        medP95(seg.get(r)!.availability),
      ),
      row('first frame captured → segment listed, median (p95)', (r) => medP95(seg.get(r)!.ageWhenListed)),
      row('EXT-X-PROGRAM-DATE-TIME − first frame’s stamp, median', (r) =>
        seg.get(r)!.pdtOffset.count === 0 ? 'not written' : ms(seg.get(r)!.pdtOffset.median),
      ),
    ]),
    '',
    '4. **Player hold-back.** hls.js keeps the playhead a target distance behind the live edge (the end of',
    '   the newest listed segment); sampled once a second in the steady window. The viewer there from the',
    '   start began on the first segment as soon as it was listed, so it plays closer to the edge than the',
    '   target; a viewer who joins a live stream starts at the target and stays there:',
    '',
    table(head, [
      row('hls.js target latency (median)', (r) => sec(pl.get(r)!.targetLatency)),
      row('hls.js measured latency from the live edge (median)', (r) => sec(pl.get(r)!.hlsLatency)),
      row('forward buffer (median)', (r) => sec(pl.get(r)!.bufferSeconds)),
      row('segment listed → frame on screen (mean, from the split above)', (r) => ms(d.get(r)!.player)),
      row('viewer who joined a live stream: hls.js measured latency from the live edge (median)', (r) =>
        sec(pj.get(r)?.hlsLatency),
      ),
      row('viewer who joined: forward buffer (median)', (r) => sec(pj.get(r)?.bufferSeconds)),
      row('viewer who joined: segment listed → frame on screen (mean)', (r) => ms(dj.get(r)?.player)),
    ]),
  ].join('\n');
}
