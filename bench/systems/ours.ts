/**
 * Ours: the web service (embedded broker) and the camera agent on the stamped test source, their
 * real CLIs from dist/; Chromium opens `/?stats=1` and clicks Start, as a person would.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { STREAM_PLAYLIST_NAME } from '@camstream/protocol';
import type { Page } from 'playwright-core';
import { startSystem, type System } from '../../test/helpers/system.js';
import { CameraWatch } from '../lib/camera.js';
import { waitForStats } from '../lib/page.js';
import { PlaylistWatcher } from '../lib/playlist.js';
import { cachedFinder, childrenNamed } from '../lib/resources.js';
import type { ColdStart, SystemRun } from '../lib/types.js';
import {
  chromiumFinder,
  commandLine,
  ms,
  newPage,
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
}

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

export async function runOurs(ctx: BenchContext): Promise<OursHandle> {
  const { options, teardown } = ctx;
  ctx.log('ours: starting the web service (embedded broker) and the agent (stamped test source)');
  const system = await startSystem(teardown, {
    broker: 'embedded',
    webEnv: { LOG_LEVEL: 'info' },
    agentEnv: { ...VIDEO_ENV, LOG_LEVEL: 'info' },
  });
  const camera = await CameraWatch.connect(system.mqttUrl, 'cam1');
  teardown.add(() => camera.close(), 'the MQTT watcher');
  const webPid = system.web.proc.pid!;
  const agentPid = () => system.agent!.proc.pid!;
  const segmenterPid = async () => (await childrenNamed(webPid, 'ffmpeg'))[0];
  const encoderPid = async () => (await childrenNamed(agentPid(), 'ffmpeg'))[0];

  const coldStarts: ColdStart[] = [];
  const commands: Record<string, string> = {};
  let segmenterInput: OursHandle['segmenterInput'];
  let result: Awaited<ReturnType<typeof steadyWindow>> | undefined;
  const keepDir = join(ctx.workDir, 'ours-segments');
  await mkdir(keepDir, { recursive: true });

  for (let cycle = 1; cycle <= options.coldStarts; cycle++) {
    const last = cycle === options.coldStarts;
    const { page, errors } = await newPage(ctx);
    try {
      await page.goto(`${system.baseUrl}/?stats=1`);
      await stateIs(page, 'camera-state', 'idle');
      await stateIs(page, 'stream-state', 'idle');
      const watcher = new PlaylistWatcher(join(system.hlsDir, STREAM_PLAYLIST_NAME));
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
      const probed = probedAt(system.web.output(), before);
      const start: ColdStart = {
        cycle,
        startAt: t0,
        ...(stats.startAnsweredAt !== undefined && { toManifest: stats.startAnsweredAt - t0 }),
        toPlaylistFile: listedAt - t0,
        toFirstFrame: stats.firstFrameAt! - t0,
        toFirstDatagram: streaming.at - t0,
        ...(probed !== undefined && { toProbed: probed - t0 }),
        ...(watcher.segments[0] && { firstSegmentMs: watcher.segments[0].duration * 1000 }),
      };
      coldStarts.push(start);
      ctx.log(
        `ours: cold start ${cycle}/${options.coldStarts}: click → manifest (200) ${ms(start.toManifest)}, ` +
          `click → first frame ${ms(start.toFirstFrame)}`,
      );
      if (last) {
        const segmenter = await commandLine(await segmenterPid());
        const encoder = await commandLine(await encoderPid());
        if (segmenter) {
          commands['segmenter (ffmpeg, in the web service)'] = segmenter.join(' ');
          segmenterInput = inputOf(segmenter);
        }
        if (encoder) commands['encoder (ffmpeg, in the agent)'] = encoder.join(' ');
        result = await steadyWindow(
          ctx,
          'ours',
          page,
          stats.firstFrameAt!,
          watcher,
          {
            'web service (node)': async () => [webPid],
            'segmenter (ffmpeg)': cachedFinder(() => childrenNamed(webPid, 'ffmpeg')),
            'agent (node)': async () => [agentPid()],
            'encoder (ffmpeg)': cachedFinder(() => childrenNamed(agentPid(), 'ffmpeg')),
            'player (Chromium, all processes)': chromiumFinder,
          },
          `${system.baseUrl}/?stats=1`,
        );
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
    ctx.log(`ours: API start ${cycle}/${options.coldStarts}: POST /api/stream/start → 200 in ${ms(took)}`);
    const stopAt = Date.now();
    const stopped = await system.api('/api/stream/stop', { method: 'POST' });
    if (stopped.status !== 200) throw new Error(`POST /api/stream/stop answered ${stopped.status}`);
    await camera.waitFor('idle', stopAt, STEP_TIMEOUT_MS);
  }

  return {
    system,
    ...(segmenterInput && { segmenterInput }),
    run: {
      system: 'ours',
      title: 'ours (camstream: ffmpeg HLS segmenter in the web service)',
      coldStarts,
      apiStarts,
      steady: result!.steady,
      resources: result!.resources,
      commands,
      notes: [],
    },
  };
}
