/**
 * One step of `npm run bench:cameras`: `count` cameras on a fresh service and broker. A few seconds
 * idle, then `rounds` start rounds (every camera one at a time, those started staying live; all
 * stopped; every camera at once), then, with every camera live, `durationSec` of sampling: the
 * service's CPU and RSS, each camera's segmenter, the cameras' encoders, the whole machine, while
 * each camera's playlist is followed part by part. Everything it starts is stopped before it returns.
 */
import { loadavg } from 'node:os';
import { privateKb, ResourceSampler, type RoleFinder } from '../lib/resources.js';
import { Teardown } from '../lib/teardown.js';
import { PlaylistAdvance } from './advance.js';
import { cameraIds, command, startFleet, type Fleet } from './fleet.js';
import {
  ENCODERS,
  SERVICE,
  segmenterRole,
  type StartTiming,
  type StepRun,
  type StopTiming,
} from './types.js';

/** Seconds the service is sampled with every camera known and none streaming. */
const IDLE_SEC = 3;

/** How long after a round the cameras' `streaming` statuses are waited for. */
const STATUS_GRACE_MS = 300;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface StepOptions {
  count: number;
  /** A service from before many cameras to run instead of ours (its dist/server.js); one camera. */
  baselineCli?: string;
  rounds: number;
  durationSec: number;
  log: (line: string) => void;
  /** Called once with the step's fleet live, for the command lines in the report. */
  onLive?: (fleet: Fleet) => Promise<void>;
}

async function stopAll(fleet: Fleet, ids: string[], round: number, after: StopTiming['after']) {
  const began = performance.now();
  const results = await Promise.all(ids.map((id) => command(fleet, id, 'stop')));
  return { round, after, ms: performance.now() - began, ok: results.every((r) => r.ok) };
}

async function startRound(fleet: Fleet, ids: string[], round: number, mode: StartTiming['mode']) {
  const start = async (cameraId: string): Promise<StartTiming> => ({
    cameraId,
    mode,
    round,
    ...(await command(fleet, cameraId, 'start')),
  });
  const timings: StartTiming[] = [];
  if (mode === 'together') timings.push(...(await Promise.all(ids.map(start))));
  else for (const id of ids) timings.push(await start(id));
  // The camera's `streaming` status may reach us just after the service's answer.
  await sleep(STATUS_GRACE_MS);
  for (const t of timings) {
    const first = fleet.streamingAt.get(t.cameraId)?.find((at) => at >= t.at);
    if (first !== undefined && t.ok) t.cameraMs = first - t.at;
    const told = fleet.startingAt.get(t.cameraId)?.find((at) => at >= t.at);
    if (told !== undefined && t.ok && (first === undefined || told <= first)) t.commandMs = told - t.at;
  }
  return timings;
}

function sampleFor(seconds: number, roles: Record<string, RoleFinder>) {
  const sampler = new ResourceSampler(roles);
  return sleep(seconds * 1000).then(() => sampler.stop());
}

export async function runStep(parent: Teardown, options: StepOptions): Promise<StepRun> {
  const { count, rounds, durationSec, log } = options;
  const ids = cameraIds(count);
  // The step's own teardown, also run by the run's (on a signal, or the time limit) if still open.
  const teardown = new Teardown();
  parent.add(() => teardown.run(), `the ${count}-camera step`);
  try {
    log(
      `${count} camera(s): Mosquitto, ${options.baselineCli ? `the baseline service (${options.baselineCli})` : 'the web service'}, ${ids.join(' ')}`,
    );
    const fleet = await startFleet(teardown, count, options.baselineCli);
    const webPid = fleet.system.web.proc.pid!;
    const errors: string[] = [];
    const idle = await sampleFor(IDLE_SEC, { [SERVICE]: async () => [webPid] });

    const starts: StartTiming[] = [];
    const stops: StopTiming[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const mode of ['alone', 'together'] as const) {
        const timings = await startRound(fleet, ids, round, mode);
        starts.push(...timings);
        const failed = timings.filter((t) => !t.ok);
        for (const t of failed) errors.push(`start of ${t.cameraId} (${mode}, round ${round}): ${t.error}`);
        const ms = timings.map((t) => Math.round(t.ms)).join(' ');
        log(`  round ${round}, ${mode === 'alone' ? 'one at a time' : 'all together'}: ${ms} ms`);
        if (round < rounds || mode === 'alone') stops.push(await stopAll(fleet, ids, round, mode));
      }
    }
    // The window needs every camera live: one more try for any whose last start failed.
    for (const t of starts.filter((s) => s.round === rounds && s.mode === 'together' && !s.ok)) {
      const again = await command(fleet, t.cameraId, 'start');
      if (!again.ok) errors.push(`${t.cameraId} could not be started for the window: ${again.error}`);
    }
    await options.onLive?.(fleet);

    log(`  all ${count} live: sampling for ${durationSec} s`);
    const load1 = Math.round(loadavg()[0]! * 100) / 100;
    const windowStart = Date.now();
    const watchers = ids.map(
      (id) => new PlaylistAdvance(id, `${fleet.system.baseUrl}${fleet.routes.playlist(id)}`),
    );
    const segmenterOf = (id: string) => async () => {
      const pid = fleet.segmenters.get(id);
      return pid === undefined ? [] : [pid];
    };
    const resources = await sampleFor(durationSec, {
      [SERVICE]: async () => [webPid],
      ...Object.fromEntries(ids.map((id) => [segmenterRole(id), segmenterOf(id)])),
      [ENCODERS]: async () => [...fleet.cameras.values()].flatMap((camera) => camera.encoderPid ?? []),
    });
    const privateMiB: Record<string, number> = {};
    for (const [role, pid] of [
      [SERVICE, webPid],
      ...ids.map((id) => [segmenterRole(id), fleet.segmenters.get(id)] as const),
    ] as const) {
      const kb = pid === undefined ? undefined : await privateKb(pid);
      if (kb !== undefined) privateMiB[role] = kb / 1024;
    }
    const playlists = await Promise.all(watchers.map((w) => w.stop()));

    const notLiveAtEnd: string[] = [];
    for (const id of ids) {
      const { body } = await fleet.system.api(fleet.routes.info(id));
      if ((body as { state?: string }).state !== 'live') notLiveAtEnd.push(id);
    }
    for (const id of notLiveAtEnd) errors.push(`${id} was not live when the window ended`);
    const segmenterStarts = Object.fromEntries(
      ids.map((id) => [id, fleet.segmenterStartedAt.get(id)?.length ?? 0]),
    );
    const segmenterRestartsInWindow = [...fleet.segmenterStartedAt.values()]
      .flat()
      .filter((at) => at >= windowStart).length;
    if (fleet.system.web.proc.exitCode !== null) errors.push('the web service exited');
    const advances = playlists.map((p) => p.advances).join(' ');
    const playlistErrors = playlists.reduce((sum, p) => sum + p.errors, 0);
    log(`  parts seen per camera: ${advances}; ${playlistErrors} playlist errors`);
    stops.push(await stopAll(fleet, ids, rounds, 'together'));
    return {
      ...(options.baselineCli !== undefined && { baseline: true }),
      routes: fleet.routes.name,
      cameras: count,
      cameraIds: ids,
      idle,
      starts,
      stops,
      window: { durationSec, resources },
      playlists,
      privateMiB,
      segmenterStarts,
      segmenterRestartsInWindow,
      notLiveAtEnd,
      errors,
      load1,
    };
  } finally {
    log(`  stopping the ${count}-camera step`);
    await teardown.run();
  }
}
