/**
 * Faults at the camera, caused for real: the agent's encoder SIGKILLed mid-stream (three times) or
 * hung (SIGSTOP), and the agent itself SIGKILLed and started again. Real Mosquitto, the real agent and service CLIs, real
 * ffmpeg; status watched with mosquitto_sub, the playlist with blocking reloads, judged throughout.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { alive, encoderOf, goLive, streamInfo } from '../helpers/faults.js';
import { recordFigures } from '../helpers/figures.js';
import { watchLive } from '../helpers/live-watch.js';
import { mosquittoSub, type Subscription } from '../helpers/mqtt-cli.js';
import { expectPlayableByFfmpeg } from '../helpers/player.js';
import { startSystem } from '../helpers/system.js';
import { haveTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto', 'mosquitto_sub');

/** The camera's status `state`, published at or after `since` (its `at`). */
const statusSince = (watch: Subscription, state: string, since: number) =>
  watch.next((m) => {
    const status = m.payload as { state?: string; at?: string };
    return (
      m.topic === 'cameras/cam1/status' && status.state === state && Date.parse(status.at ?? '') >= since
    );
  }) as Promise<{ state: string; at: string; message?: string }>;

describe.runIf(ready)('faults at the camera', () => {
  const cleanup = useCleanup();

  test('the encoder SIGKILLed mid-stream, three times: status error, restarted by the agent, the stream goes on after a discontinuity', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto' });
    const watch = await mosquittoSub({ port: system.mqttPort }, 'cameras/cam1/#');
    cleanup.add(() => watch.stop());
    await goLive(system);
    const live = watchLive(system.baseUrl);
    cleanup.add(() => live.stop());
    const [segmenter] = await system.segmenterPids();
    await sleep(1500);

    const resumes: number[] = [];
    const streamingAgain: number[] = [];
    for (let kill = 0; kill < 3; kill += 1) {
      const encoder = await encoderOf(system);
      const killedAt = Date.now();
      process.kill(encoder, 'SIGKILL');
      const error = await statusSince(watch, 'error', killedAt);
      expect(error.message).toMatch(/encoder was killed by SIGKILL; restarting in \d+ ms/);
      await statusSince(watch, 'streaming', killedAt);
      streamingAgain.push(Date.now() - killedAt);
      const resumed = await waitFor('a part after the gap', () => live.firstPartAfterGap(killedAt), {
        timeoutMs: 15_000,
      });
      resumes.push(resumed.at - killedAt);
      expect(alive(encoder)).toBe(false);
      expect(await encoderOf(system)).not.toBe(encoder);
      await sleep(2000);
    }
    await live.stop();

    // The service never noticed more than a gap: the same segmenter, live all along, a valid playlist.
    expect(await system.segmenterPids()).toEqual([segmenter]);
    expect(await streamInfo(system)).toMatchObject({ state: 'live', camera: { state: 'streaming' } });
    expect((await streamInfo(system)).lastError).toBeUndefined();
    expect(live.violations).toEqual([]);
    expect(live.discontinuities.size).toBeGreaterThanOrEqual(3);
    await expectPlayableByFfmpeg(`${system.baseUrl}/hls/stream.m3u8`, {
      seconds: 3,
      minSeconds: 2.9,
      minFrames: 3 * 30 * 0.9,
    });
    recordFigures({
      kills: 3,
      resumeMs: resumes.join(' '),
      statusStreamingAgainMs: streamingAgain.join(' '),
      playlistViolations: live.violations.length,
    });
  });

  test('the encoder hangs (SIGSTOP): the service says silent, the agent restarts it after STALL_TIMEOUT_MS, the stream goes on', async () => {
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      agentEnv: { STALL_TIMEOUT_MS: '3000' },
    });
    const watch = await mosquittoSub({ port: system.mqttPort }, 'cameras/cam1/#');
    cleanup.add(() => watch.stop());
    await goLive(system);
    const live = watchLive(system.baseUrl);
    cleanup.add(() => live.stop());
    await sleep(1000);
    const hung = await encoderOf(system);
    cleanup.add(() => (alive(hung) ? process.kill(hung, 'SIGKILL') : undefined));
    const stoppedAt = Date.now();
    process.kill(hung, 'SIGSTOP');
    await waitFor(
      'the service to say silent',
      async () => (await streamInfo(system)).input?.state === 'silent',
    );
    const silentMs = Date.now() - stoppedAt;
    const error = await statusSince(watch, 'error', stoppedAt);
    expect(error.message).toMatch(/sent no data for \d+ ms; restarting/);
    const errorMs = Date.parse(error.at) - stoppedAt;
    await statusSince(watch, 'streaming', stoppedAt);
    const resumed = await waitFor(
      'a part after the discontinuity',
      () => live.firstPartAfterDiscontinuity(),
      { timeoutMs: 15_000 },
    );
    await waitFor(
      'the service to say receiving',
      async () => (await streamInfo(system)).input?.state === 'receiving',
    );
    await waitFor('the hung encoder to be gone', () => !alive(hung));
    await live.stop();
    expect(live.violations).toEqual([]);
    expect(await streamInfo(system)).toMatchObject({ state: 'live', camera: { state: 'streaming' } });
    recordFigures({
      stallTimeoutMs: 3000,
      silentReportedMs: silentMs,
      agentErrorMs: errorMs,
      resumeMs: resumed.at - stoppedAt,
    });
  });

  test('the agent SIGKILLed while streaming: its Last Will says offline, its encoder exits, the service ends the stream; started again it is idle and a new start works', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto' });
    const watch = await mosquittoSub({ port: system.mqttPort }, 'cameras/cam1/#');
    cleanup.add(() => watch.stop());
    await goLive(system);
    const encoder = await encoderOf(system);
    cleanup.add(() => (alive(encoder) ? process.kill(encoder, 'SIGKILL') : undefined));

    const killedAt = Date.now();
    await system.agent!.stop('SIGKILL');
    const will = await watch.next(
      (m) => m.topic === 'cameras/cam1/status' && (m.payload as { state?: string }).state === 'offline',
    );
    const willMs = Date.now() - killedAt;
    expect(will).toEqual({ state: 'offline', at: expect.any(String) }); // the Will, not a goodbye
    // Its UDP socket is connected to the dead agent's: ECONNREFUSED ends it.
    await waitFor('the orphaned encoder to exit', () => !alive(encoder), { timeoutMs: 5000 });
    const encoderGoneMs = Date.now() - killedAt;
    await waitFor('the service to end the stream', async () => (await streamInfo(system)).state === 'idle');
    const serviceIdleMs = Date.now() - killedAt;
    expect((await streamInfo(system)).lastError).toMatchObject({ code: 'WEB_ERR_CAMERA_OFFLINE' });
    expect(await system.segmenterPids()).toEqual([]);
    expect((await fetch(`${system.baseUrl}/hls/stream.m3u8`)).status).toBe(404);

    // Retained: someone who looks now sees offline too.
    const late = await mosquittoSub({ port: system.mqttPort }, 'cameras/cam1/status');
    cleanup.add(() => late.stop());
    expect(await late.next(() => true)).toMatchObject({ state: 'offline' });

    const restartedAt = Date.now();
    await system.startAgent(); // waits until the service hears `idle`
    await statusSince(watch, 'idle', restartedAt);
    const agentBackMs = Date.now() - restartedAt;
    const startedAt = Date.now();
    await goLive(system);
    const startMs = Date.now() - startedAt;
    await expectPlayableByFfmpeg(`${system.baseUrl}/hls/stream.m3u8`, {
      seconds: 2,
      minSeconds: 1.9,
      minFrames: 2 * 30 * 0.9,
    });
    recordFigures({ willMs, encoderGoneMs, serviceIdleMs, agentBackMs, startMs });
  });
});
