/**
 * The peer: nginx with Debian's RTMP module, tuned to 1-second fragments. A camera on the same
 * stamped test source with the same encoder settings sends to an ffmpeg remuxer (-c copy, UDP in,
 * RTMP out) that publishes to nginx. By default that camera is the foreign one (plain ffmpeg, a
 * keyframe a second): our agent's early second keyframe, made for our LL-HLS start, would make
 * nginx's first fragment 1.2 s long; `--peer-camera agent` feeds it with the agent CLI instead. The
 * same player page plays nginx's playlist in player-only mode (`/?stats=1&src=…`, served by our web
 * service).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ForeignCamera } from '../../test/helpers/foreign-camera.js';
import { AGENT_CLI, type System } from '../../test/helpers/system.js';
import { freeUdpPort } from '../../test/helpers/ports.js';
import { runNode } from '../../test/helpers/processes.js';
import { startNginx, startRemuxer, type Remuxer } from '../peer/nginx.js';
import { CameraWatch } from '../lib/camera.js';
import { waitForStats } from '../lib/page.js';
import { PlaylistWatcher } from '../lib/playlist-watcher.js';
import { cachedFinder, childrenNamed } from '../lib/resources.js';
import type { ColdStart, SystemRun } from '../lib/types.js';
import {
  chromiumFinder,
  commandLine,
  FOREIGN_VIDEO,
  ms,
  newPage,
  observeSettle,
  settledLine,
  settleFromSteady,
  steadyWindow,
  STEP_TIMEOUT_MS,
  VIDEO_ENV,
  type BenchContext,
} from './common.js';

/**
 * Our segmenter's input handling when ours was not measured in this run (its values as of writing:
 * LL-HLS, listening before the camera starts, probes one packet: the encoder's first keyframe).
 */
const DEFAULT_INPUT = {
  options: ['-probesize', '32', '-analyzeduration', '0', '-f', 'mpegts'],
  query: 'fifo_size=28672&buffer_size=4194304&overrun_nonfatal=1',
};

/** Its own camera id, so our service (which also hears this broker) never picks the stream up. */
const PEER_CAMERA_ID = 'bench-peer';

export async function runPeer(
  ctx: BenchContext,
  system: System,
  segmenterInput: { options: string[]; query: string } | undefined,
): Promise<{ run: SystemRun; nginxConfig: string }> {
  const { options, teardown } = ctx;
  const notes: string[] = [];
  // Ours reads its camera from a pipe now (the ingest owns the UDP port): the UDP query is ours as of writing.
  const input = { options: segmenterInput?.options ?? DEFAULT_INPUT.options, query: DEFAULT_INPUT.query };
  if (!segmenterInput)
    notes.push('The remuxer used default input options: ours was not measured in this run.');

  const cameraKind = options.peerCamera;
  ctx.log(
    `peer: starting nginx-rtmp and ${cameraKind === 'agent' ? 'the agent' : 'a foreign camera (plain ffmpeg)'} ` +
      '(stamped test source, same settings)',
  );
  const nginx = await startNginx(teardown);
  const udpPort = await freeUdpPort();
  const target = `udp://127.0.0.1:${udpPort}`;
  const agent =
    cameraKind === 'agent'
      ? runNode('agent (peer)', AGENT_CLI, {
          MQTT_URL: system.mqttUrl,
          CAMERA_ID: PEER_CAMERA_ID,
          CAMERA_SOURCE: 'test',
          UDP_TARGET: target,
          ...VIDEO_ENV,
          LOG_LEVEL: 'info',
        })
      : undefined;
  if (agent) teardown.add(() => agent.stop(), 'the peer agent');
  const camera = await CameraWatch.connect(system.mqttUrl, PEER_CAMERA_ID);
  teardown.add(() => camera.close(), 'the MQTT client');
  const foreign =
    cameraKind === 'foreign'
      ? await ForeignCamera.connect({
          mqttUrl: system.mqttUrl,
          cameraId: PEER_CAMERA_ID,
          target,
          ...FOREIGN_VIDEO,
        })
      : undefined;
  if (foreign) teardown.add(() => foreign.close(), 'the peer’s foreign camera');
  await camera.waitFor('idle', 0, STEP_TIMEOUT_MS).catch((err: Error) => {
    throw new Error(`${err.message}\n${agent?.output() ?? ''}`);
  });
  const agentPid = agent?.proc.pid;
  const encoderPid = async () =>
    foreign ? foreign.encoderPid : (await childrenNamed(agentPid!, 'ffmpeg'))[0];

  const coldStarts: ColdStart[] = [];
  const commands: Record<string, string> = { 'nginx.conf': 'peer-nginx.conf in this folder' };
  let result: Awaited<ReturnType<typeof steadyWindow>> | undefined;
  const keepDir = join(ctx.workDir, 'peer-segments');
  await mkdir(keepDir, { recursive: true });
  let remuxer: Remuxer | undefined;

  for (let cycle = 1; cycle <= options.coldStarts; cycle++) {
    const last = cycle === options.coldStarts;
    // A new stream name each time: a cold start for nginx too (no playlist left from before).
    const stream = `cam${cycle}`;
    const watcher = PlaylistWatcher.onDisk(nginx.playlistPath(stream));
    if (last) watcher.keepSegmentsIn(keepDir);
    // Like our service: the start spawns the receiving ffmpeg, waits until it listens, then commands.
    const t0 = Date.now();
    remuxer = await startRemuxer(teardown, { ...input, port: udpPort }, nginx.rtmpUrl(stream));
    await camera.command('start');
    const manifestAt = await watcher.firstListed(STEP_TIMEOUT_MS).catch((err: Error) => {
      throw new Error(`${err.message}\nremuxer:\n${remuxer?.output()}`);
    });
    const { page, errors } = await newPage(ctx);
    try {
      const src = encodeURIComponent(nginx.playlistUrl(stream));
      const navigateAt = Date.now();
      await page.goto(`${system.baseUrl}/?stats=1&src=${src}`);
      const loadedAt = Date.now();
      const stats = await waitForStats(
        page,
        'the first frame in player-only mode',
        (s) => (s.firstFrameAt !== undefined ? s : undefined),
        STEP_TIMEOUT_MS,
      ).catch((err: Error) => {
        throw new Error(`${err.message}${errors.length ? `\npage errors: ${errors.join('\n')}` : ''}`);
      });
      const streaming = await camera.waitFor('streaming', t0, STEP_TIMEOUT_MS);
      const probed = remuxer.probedAt();
      const start: ColdStart = {
        cycle,
        startAt: t0,
        toManifest: manifestAt - t0,
        toPlaylistFile: manifestAt - t0,
        toFirstFrame: stats.firstFrameAt! - t0,
        toFirstDatagram: streaming.at - t0,
        ...(probed !== undefined && { toProbed: probed - t0 }),
        ...(watcher.segments[0] && { firstSegmentMs: watcher.segments[0].duration * 1000 }),
        pageLoad: loadedAt - navigateAt,
      };
      coldStarts.push(start);
      ctx.log(
        `peer: cold start ${cycle}/${options.coldStarts}: start → manifest ${ms(start.toManifest)}, ` +
          `start → first frame ${ms(start.toFirstFrame)} (page load ${ms(start.pageLoad)})`,
      );
      if (!last) {
        start.settle = await observeSettle(ctx, page, t0, stats.firstFrameAt!);
        ctx.log(`peer: cold start ${cycle}/${options.coldStarts}: ${settledLine(start)}`);
      }
      if (last) {
        const encoder = await commandLine(await encoderPid());
        if (encoder && agent) commands['encoder (ffmpeg, in the agent)'] = encoder.join(' ');
        if (foreign?.commandLine)
          commands['encoder (the foreign camera: plain ffmpeg)'] = foreign.commandLine;
        commands['remuxer (ffmpeg)'] = ['ffmpeg', ...remuxer.args].join(' ');
        const remuxerPid = remuxer.proc.pid!;
        result = await steadyWindow(
          ctx,
          'peer',
          page,
          stats.firstFrameAt!,
          watcher,
          {
            'nginx (rtmp + http, one process)': async () => [nginx.pid],
            'remuxer (ffmpeg)': async () => [remuxerPid],
            ...(agentPid !== undefined && { 'agent (node)': async () => [agentPid] }),
            'encoder (ffmpeg)': foreign
              ? async () => (foreign.encoderPid === undefined ? [] : [foreign.encoderPid])
              : cachedFinder(() => childrenNamed(agentPid!, 'ffmpeg')),
            'player (Chromium, all processes)': chromiumFinder,
          },
          `${system.baseUrl}/?stats=1&src=${src}`,
        );
        start.settle = settleFromSteady(ctx, result.steady);
        ctx.log(`peer: cold start ${cycle}/${options.coldStarts}: ${settledLine(start)}`);
      } else {
        await watcher.stop();
      }
    } finally {
      await page.close();
    }
    const stopAt = Date.now();
    await camera.command('stop');
    await camera.waitFor('idle', stopAt, STEP_TIMEOUT_MS);
    await remuxer.stop();
  }
  notes.push(
    'The peer has no page of its own: its start figures include opening the player page once nginx lists a ' +
      'segment (page load column); ours has its page open before the click.',
  );
  notes.push(
    cameraKind === 'foreign'
      ? 'The peer is fed by the foreign camera (plain ffmpeg, a keyframe a second, no early one): our agent’s ' +
          'early second keyframe, made for our LL-HLS start, would make nginx’s first fragment 1.2 s long ' +
          '(`--peer-camera agent` feeds it with the agent).'
      : 'The peer is fed by our agent (`--peer-camera agent`): its early second keyframe (0.2 s in) makes ' +
          'nginx’s first fragment 1.2 s long (it cuts at the first keyframe after 1 s).',
  );
  const run: SystemRun = {
    system: 'peer',
    camera: cameraKind,
    title:
      'peer (nginx-rtmp, hls_fragment 1s, fed by an ffmpeg UDP → RTMP remuxer; the camera: ' +
      (cameraKind === 'foreign' ? 'plain ffmpeg, 1 s GOP' : 'our agent') +
      ')',
    coldStarts,
    steady: result!.steady,
    resources: result!.resources,
    commands,
    notes,
  };
  return { run, nginxConfig: nginx.config };
}
