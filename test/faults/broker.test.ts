/**
 * The broker restarted under a live stream, for real: Mosquitto stopped and started again on its
 * port (no persistence: every session and retained message is gone, the harder case). The agent and
 * the service reconnect and subscribe again by themselves; the camera's status is published again; the
 * video, which does not pass through the broker, never stops; a command sent while the broker was down
 * arrives once it is back, and is applied once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { goLive, streamInfo } from '../helpers/faults.js';
import { recordFigures } from '../helpers/figures.js';
import { watchLive } from '../helpers/live-watch.js';
import { mosquittoSub } from '../helpers/mqtt-cli.js';
import { json, startSystem, type System } from '../helpers/system.js';
import { haveTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const ready = haveTools('ffmpeg', 'mosquitto', 'mosquitto_sub');

/** Every state GET /api/stream reported, polled every 50 ms until stopped. */
function pollStates(system: System) {
  const seen = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      seen.add((await streamInfo(system)).state);
      await sleep(50);
    }
  })();
  return {
    seen,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** The service's log lines (pino JSON) with `msg`. */
function serviceLog(system: System, msg: string): Record<string, unknown>[] {
  return system.web
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === msg);
}

describe.runIf(ready)('the MQTT broker restarted', () => {
  const cleanup = useCleanup();

  test('during a live stream: both reconnect, the status is published again, the stream never stops', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto' });
    await goLive(system);
    const live = watchLive(system.baseUrl);
    cleanup.add(() => live.stop());
    const states = pollStates(system);
    cleanup.add(() => states.stop());
    await sleep(1000);

    const downAt = Date.now();
    await system.mosquitto!.down();
    await sleep(1000);
    const upAt = Date.now();
    await system.mosquitto!.up();
    const sub = await mosquittoSub({ port: system.mqttPort }, 'cameras/cam1/status');
    cleanup.add(() => sub.stop());
    // The broker kept nothing; the agent publishes its retained status again once it is back.
    await sub.next((m) => (m.payload as { state?: string }).state === 'streaming', 10_000);
    const statusBackMs = Date.now() - upAt;
    await waitFor('the service to hear the camera again', async () => {
      const info = await streamInfo(system);
      return info.camera?.state === 'streaming' && Date.now() - upAt > 0;
    });
    const serviceBackMs = Date.now() - upAt;
    await sleep(1000);
    await states.stop();
    await live.stop();

    expect([...states.seen]).toEqual(['live']);
    expect(live.violations).toEqual([]);
    expect(live.answers.get(404) ?? 0).toBe(0);
    // The video does not pass through the broker: parts kept coming all along.
    const longestGapMs = live.longestGapMs(downAt, Date.now());
    expect(longestGapMs).toBeLessThan(1000);

    // Commands work again: a stop reaches the camera.
    const stopAt = Date.now();
    expect(await system.api('/api/stream/stop', json())).toMatchObject({ status: 200 });
    await sub.next((m) => (m.payload as { state?: string }).state === 'idle');
    recordFigures({
      brokerDownMs: upAt - downAt,
      statusBackMs,
      serviceBackMs,
      longestGapMs,
      stopRoundTripMs: Date.now() - stopAt,
    });
  });

  test('a stop sent while the broker is down reaches the camera once it is back, and is applied once', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto' });
    await goLive(system);
    await system.mosquitto!.down();
    // The service's side of a stop needs no broker: the stream is gone at once.
    expect(await system.api('/api/stream/stop', json())).toMatchObject({
      status: 200,
      body: { state: 'idle' },
    });
    const [published] = serviceLog(system, 'published a command').filter(
      (line) => (line.command as { action: string }).action === 'stop',
    );
    const id = (published!.command as { id: string }).id;
    await sleep(1500);

    const upAt = Date.now();
    await system.mosquitto!.up();
    const sub = await mosquittoSub({ port: system.mqttPort }, 'cameras/cam1/status');
    cleanup.add(() => sub.stop());
    await sub.next((m) => (m.payload as { state?: string }).state === 'idle', 15_000);
    const deliveredMs = Date.now() - upAt;

    // Applied once: the agent logs each command it applies; repeats are answered as duplicates.
    const applied = system
      .agent!.output()
      .split('\n')
      .filter((line) => line.includes(`command ${id}: stop`));
    expect(applied).toHaveLength(1);
    // Answered: the service stops sending it (a resend every 3 s until then). Copies sent on the
    // way back (on reconnecting, on hearing the camera) are answered as duplicates within a moment.
    const resends = () => serviceLog(system, 'sent an unanswered command again').length;
    await sleep(1000);
    const sent = resends();
    await sleep(3500);
    expect(resends(), JSON.stringify(serviceLog(system, 'sent an unanswered command again'))).toBe(sent);
    expect(await streamInfo(system)).toMatchObject({ state: 'idle', camera: { state: 'idle' } });

    const startedAt = Date.now();
    await goLive(system);
    recordFigures({
      deliveredMs,
      resends: sent,
      applied: applied.length,
      startAfterMs: Date.now() - startedAt,
    });
  });
});
