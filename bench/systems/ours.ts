/**
 * Ours: the web service (embedded broker) and a camera on the stamped test source: the camera agent
 * (its real CLI from dist/) or a camera that is not ours (plain ffmpeg, test/helpers/foreign-camera.ts);
 * Chromium opens `/?stats=1&transport=hls` (HLS, not the page's default WebRTC) and clicks Start, as a person would. In LL-HLS (the service's default)
 * the playlist and its media are read over HTTP, as a player does, and the packager's /metrics are
 * sampled; in plain HLS (HLS_MODE=plain) the playlist file is polled on disk.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { STREAM_PLAYLIST_NAME } from '@camstream/protocol';
import type { Page } from 'playwright-core';
import { ForeignCamera } from '../../test/helpers/foreign-camera.js';
import { startSystem, type System } from '../../test/helpers/system.js';
import { CameraWatch } from '../lib/camera.js';
import { waitForStats } from '../lib/page.js';
import { PlaylistWatcher } from '../lib/playlist-watcher.js';
import { cachedFinder, childrenNamed } from '../lib/resources.js';
import type { CameraKind, ColdStart, SystemRun } from '../lib/types.js';
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

export interface OursHandle {
  run: SystemRun;
  /** The running service (it keeps serving the player page for the peer's run). */
  system: System;
  /** Our segmenter's input options and UDP query, for the peer's remuxer to read its input the same way. */
  segmenterInput?: { options: string[]; query: string };
  /** Stops the camera (the agent or the foreign camera); the service stays. */
  stopCamera(): Promise<void>;
}

/** The systems this runner measures: the service's packaging and what feeds it. */
export const OURS_VARIANTS = {
  ours: { mode: 'll', camera: 'agent' },
  'ours-foreign': { mode: 'll', camera: 'foreign' },
  'ours-plain': { mode: 'plain', camera: 'agent' },
} as const satisfies Record<string, { mode: 'll' | 'plain'; camera: CameraKind }>;
export type OursName = keyof typeof OURS_VARIANTS;

const stateIs = (page: Page, testId: string, state: string) =>
  page
    .getByTestId(testId)
    .and(page.locator(`[data-state="${state}"]`))
    .waitFor({ timeout: STEP_TIMEOUT_MS });

/** When the service logged that the segmenter finished probing (pino JSON lines on its stdout). */
function probedAt(output: string, after: number): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('segmenter input')) continue;
    try {
      const { time } = JSON.parse(line) as { time?: number };
      if (typeof time === 'number' && time >= after) return time;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

/** ffmpeg's input options (before -i, less the logging ones) and the UDP URL's query. */
export function inputOf(args: string[]): { options: string[]; query: string } | undefined {
  const at = args.indexOf('-i');
  if (at < 0) return undefined;
  const options: string[] = [];
  const before = args.slice(1, at);
  for (let i = 0; i < before.length; i++) {
    const arg = before[i]!;
    if (arg === '-hide_banner' || arg === '-nostats' || arg === '-nostdin') continue;
    if (arg === '-loglevel' || arg === '-v') {
      i++;
      continue;
    }
    options.push(arg);
  }
  const url = args[at + 1] ?? '';
  return { options, query: url.includes('?') ? url.slice(url.indexOf('?') + 1) : '' };
}

const TITLES: Record<OursName, string> = {
  ours: 'ours (camstream, LL-HLS: ffmpeg remuxes to per-frame fMP4, our packager cuts 200 ms parts and 1 s segments, served from memory)',
  'ours-foreign':
    'ours (LL-HLS), a camera that is not our agent: plain ffmpeg, 1 s GOP, ffmpeg’s mpegts muxer',
  'ours-plain':
    'ours, plain HLS (camstream with HLS_MODE=plain: the same ingest, 1 s fMP4 segments written to disk, no parts)',
};

export async function runOurs(ctx: BenchContext, name: OursName): Promise<OursHandle> {
  const { options, teardown } = ctx;
  const { mode, camera: cameraKind } = OURS_VARIANTS[name];
  ctx.log(
    `${name}: starting the web service (HLS_MODE=${mode}, embedded broker) and ` +
      (cameraKind === 'agent'
        ? 'the agent (stamped test source)'
        : 'a foreign camera (plain ffmpeg, stamped test source)'),
  );
  const system = await startSystem(teardown, {
    broker: 'embedded',
    agent: cameraKind === 'agent',
    webEnv: { LOG_LEVEL: 'info', HLS_MODE: mode },
    agentEnv: { ...VIDEO_ENV, LOG_LEVEL: 'info' },
  });
  let foreign: ForeignCamera | undefined;
  if (cameraKind === 'foreign') {
    foreign = await ForeignCamera.connect({
      mqttUrl: system.mqttUrl,
      target: `udp://127.0.0.1:${system.udpPort}`,
      ...FOREIGN_VIDEO,
    });
    teardown.add(() => foreign?.close(), 'the foreign camera');
  }
  const { hlsMode } = (await system.api('/api/stream')).body as { hlsMode?: string };
  if (hlsMode !== mode) throw new Error(`${name}: the service says hlsMode ${hlsMode}, not ${mode}`);
  const playlistUrl = `${system.baseUrl}/hls/${STREAM_PLAYLIST_NAME}`;
  const watchPlaylist = () =>
    mode === 'll'
      ? PlaylistWatcher.overHttp(playlistUrl)
      : PlaylistWatcher.onDisk(join(system.hlsDir, STREAM_PLAYLIST_NAME));
  const camera = await CameraWatch.connect(system.mqttUrl, 'cam1');
  teardown.add(() => camera.close(), 'the MQTT watcher');
  const webPid = system.web.proc.pid!;
  const agentPid = () => system.agent!.proc.pid!;
  const segmenterPid = async () => (await childrenNamed(webPid, 'ffmpeg'))[0];
  const encoderPid = async () =>
    foreign ? foreign.encoderPid : (await childrenNamed(agentPid(), 'ffmpeg'))[0];

  const coldStarts: ColdStart[] = [];
  const commands: Record<string, string> = {};
  let segmenterInput: OursHandle['segmenterInput'];
  let result: Awaited<ReturnType<typeof steadyWindow>> | undefined;
  const keepDir = join(ctx.workDir, `${name}-segments`);
  await mkdir(keepDir, { recursive: true });

  for (let cycle = 1; cycle <= options.coldStarts; cycle++) {
    const last = cycle === options.coldStarts;
    const { page, errors } = await newPage(ctx);
    try {
      await page.goto(`${system.baseUrl}/?stats=1&transport=hls`);
      await stateIs(page, 'camera-state', 'idle');
      await stateIs(page, 'stream-state', 'idle');
      const watcher = watchPlaylist();
      if (last) watcher.keepSegmentsIn(keepDir);
      const before = Date.now();
      await page.getByTestId('start').click();
      const stats = await waitForStats(
        page,
        'the first frame after Start',
        (s) => (s.firstFrameAt !== undefined && s.startClickedAt !== undefined ? s : undefined),
        STEP_TIMEOUT_MS,
      ).catch((err: Error) => {
        throw new Error(`${err.message}${errors.length ? `\npage errors: ${errors.join('\n')}` : ''}`);
      });
      const t0 = stats.startClickedAt!;
      const streaming = await camera.waitFor('streaming', before, STEP_TIMEOUT_MS);
      const listedAt = await watcher.firstListed(STEP_TIMEOUT_MS);
      const partAt = mode === 'll' ? await watcher.firstPartListed(STEP_TIMEOUT_MS) : undefined;
      const probed = probedAt(system.web.output(), before);
      const firstPart = watcher.parts[0];
      const firstSegment = watcher.segments[0];
      const partAfter =
        firstSegment && watcher.parts.find((p) => p.msn === firstSegment.seq + 1 && p.index === 0);
      const start: ColdStart = {
        cycle,
        startAt: t0,
        ...(stats.startAnsweredAt !== undefined && { toManifest: stats.startAnsweredAt - t0 }),
        toPlaylistFile: listedAt - t0,
        ...(partAt !== undefined && { toFirstPart: partAt - t0 }),
        ...(firstPart && { firstPartMs: firstPart.duration * 1000 }),
        ...(partAfter && { toPartAfterFirstSegment: partAfter.listedAt - t0 }),
        toFirstFrame: stats.firstFrameAt! - t0,
        toFirstDatagram: streaming.at - t0,
        ...(probed !== undefined && { toProbed: probed - t0 }),
        ...(watcher.segments[0] && { firstSegmentMs: watcher.segments[0].duration * 1000 }),
      };
      coldStarts.push(start);
      ctx.log(
        `${name}: cold start ${cycle}/${options.coldStarts}: click → manifest (200) ${ms(start.toManifest)}, ` +
          (mode === 'll' ? `first part listed ${ms(start.toFirstPart)}, ` : '') +
          `click → first frame ${ms(start.toFirstFrame)}`,
      );
      // The frames shown from the first on, for the "settled" figure (the last start: from the steady window).
      if (!last) {
        start.settle = await observeSettle(ctx, page, t0, stats.firstFrameAt!);
        ctx.log(`${name}: cold start ${cycle}/${options.coldStarts}: ${settledLine(start)}`);
      }
      if (last) {
        const segmenter = await commandLine(await segmenterPid());
        const encoder = await commandLine(await encoderPid());
        if (segmenter) {
          commands['segmenter (ffmpeg, in the web service)'] = segmenter.join(' ');
          segmenterInput = inputOf(segmenter);
        }
        if (encoder && !foreign) commands['encoder (ffmpeg, in the agent)'] = encoder.join(' ');
        if (foreign?.commandLine)
          commands['encoder (the foreign camera: plain ffmpeg)'] = foreign.commandLine;
        const encoderFinder = foreign
          ? async () => (foreign.encoderPid === undefined ? [] : [foreign.encoderPid])
          : cachedFinder(() => childrenNamed(agentPid(), 'ffmpeg'));
        result = await steadyWindow(
          ctx,
          name,
          page,
          stats.firstFrameAt!,
          watcher,
          {
            [mode === 'll' ? 'web service (node, with the LL-HLS packager)' : 'web service (node)']:
              async () => [webPid],
            'segmenter (ffmpeg)': cachedFinder(() => childrenNamed(webPid, 'ffmpeg')),
            ...(!foreign && { 'agent (node)': async () => [agentPid()] }),
            'encoder (ffmpeg)': encoderFinder,
            'player (Chromium, all processes)': chromiumFinder,
          },
          `${system.baseUrl}/?stats=1&transport=hls`,
          mode === 'll' ? `${system.baseUrl}/metrics` : undefined,
        );
        start.settle = settleFromSteady(ctx, result.steady);
        ctx.log(`${name}: cold start ${cycle}/${options.coldStarts}: ${settledLine(start)}`);
      } else {
        await watcher.stop();
      }
      const stopAt = Date.now();
      await page.getByTestId('stop').click();
      await stateIs(page, 'stream-state', 'idle');
      await camera.waitFor('idle', stopAt, STEP_TIMEOUT_MS);
    } finally {
      await page.close();
    }
  }

  // The same start without a browser: POST /api/stream/start → 200 (the manifest is playable).
  const apiStarts: number[] = [];
  for (let cycle = 1; cycle <= options.coldStarts; cycle++) {
    const before = performance.now();
    const answer = await system.api('/api/stream/start', { method: 'POST' });
    const took = performance.now() - before;
    if (answer.status !== 200)
      throw new Error(`POST /api/stream/start answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    apiStarts.push(took);
    ctx.log(`${name}: API start ${cycle}/${options.coldStarts}: POST /api/stream/start → 200 in ${ms(took)}`);
    const stopAt = Date.now();
    const stopped = await system.api('/api/stream/stop', { method: 'POST' });
    if (stopped.status !== 200) throw new Error(`POST /api/stream/stop answered ${stopped.status}`);
    await camera.waitFor('idle', stopAt, STEP_TIMEOUT_MS);
  }

  const notes: string[] = [];
  if (mode === 'll') {
    notes.push(
      `${name}: the bench reads the playlist over HTTP as a player does (blocking reloads, one for ` +
        'the next part and one for the next segment) and fetches each segment once with its init segment; ' +
        'the web service serves it as a further client, so its CPU and /metrics include it.',
    );
  }
  if (foreign) {
    notes.push(
      'ours-foreign: the foreign camera’s MQTT side runs inside the bench’s own process (not sampled); its ' +
        'ffmpeg is the encoder row. Its `streaming` status is sent when ffmpeg reports its first frame ' +
        '(-progress, every 20 ms), which stands for its first datagram.',
    );
  }
  return {
    system,
    ...(segmenterInput && { segmenterInput }),
    stopCamera: async () => {
      await system.agent?.stop();
      await foreign?.close();
    },
    run: {
      system: name,
      hlsMode: mode,
      camera: cameraKind,
      title: TITLES[name],
      coldStarts,
      apiStarts,
      steady: result!.steady,
      resources: result!.resources,
      ...(result!.packager && { packager: result!.packager }),
      commands,
      notes,
    },
  };
}
