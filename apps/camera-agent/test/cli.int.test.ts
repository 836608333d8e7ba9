/**
 * The `camstream-agent` CLI (dist/main.js, built by the integration project's global setup) as an
 * operator runs it: configured by environment variables, driven with mosquitto_pub and watched with
 * mosquitto_sub, stopped with signals, and killed outright to see the broker publish the Will.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { useCleanup, type Cleanup } from '../../../test/helpers/cleanup.js';
import { startMosquitto, type Mosquitto } from '../../../test/helpers/mosquitto.js';
import { mosquittoPub, mosquittoSub } from '../../../test/helpers/mqtt-cli.js';
import { runNode } from '../../../test/helpers/processes.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { GiveUp, waitFor } from '../../../test/helpers/wait.js';
import { expectMpegTsDatagrams, groupAlive } from './helpers/mpegts.js';
import { listenUdp, type UdpListener } from './helpers/udp.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'main.js');
const ready = haveTools('ffmpeg', 'mosquitto', 'mosquitto_pub', 'mosquitto_sub');

type Status = { state: string; message?: string };

async function runAgent(
  cleanup: Cleanup,
  broker: Mosquitto,
  env: Record<string, string> | ((listener: UdpListener) => Record<string, string>) = {},
) {
  const cameraId = `cli-${randomUUID().slice(0, 8)}`;
  const listener = await listenUdp(cleanup);
  const watch = await mosquittoSub({ port: broker.port }, `cameras/${cameraId}/#`);
  cleanup.add(() => watch.stop());
  const agent = runNode('agent', CLI, {
    MQTT_URL: broker.url,
    CAMERA_ID: cameraId,
    UDP_TARGET: listener.target,
    LOG_LEVEL: 'info',
    ...(typeof env === 'function' ? env(listener) : env),
  });
  cleanup.add(() => agent.stop());
  const status = (state: string) =>
    watch.next(
      (m) => m.topic === `cameras/${cameraId}/status` && (m.payload as Status).state === state,
      20_000,
    ) as Promise<Status>;
  await status('idle').catch((err: Error) => {
    throw new Error(`${err.message}\nagent output:\n${agent.output()}`);
  });
  const command = (id: string, action: string, target?: string) =>
    mosquittoPub(
      { port: broker.port },
      `cameras/${cameraId}/control`,
      JSON.stringify({ id, action, ...(target !== undefined && { target }) }),
    );
  const reply = (id: string) =>
    watch.next(
      (m) =>
        m.topic === `cameras/${cameraId}/events` && (m.payload as { commandId: unknown }).commandId === id,
    );
  const encoderPid = () =>
    waitFor('the encoder pid in the log', () => {
      if (agent.proc.exitCode !== null) throw new GiveUp(`agent exited:\n${agent.output()}`);
      const match = /encoder running \(pid (\d+)\)/.exec(agent.output());
      return match ? Number(match[1]) : undefined;
    });
  return { agent, cameraId, listener, watch, status, command, reply, encoderPid };
}

describe.runIf(ready)('camstream-agent CLI', () => {
  const cleanup = useCleanup();

  test('invalid configuration: every problem on stderr with the code, exit status 2', async () => {
    const agent = runNode('agent', CLI, {
      CAMERA_SOURCE: 'usb',
      VIDEO_FPS: 'fast',
      MQTT_URL: 'mqtt://127.0.0.1:1',
    });
    cleanup.add(() => agent.stop());
    expect(await agent.exited()).toEqual({ code: 2, signal: null });
    expect(agent.output()).toMatch(/^AGENT_ERR_CONFIG: invalid configuration:/);
    expect(agent.output()).toContain('CAMERA_SOURCE: expected one of test, rpicam, v4l2, got "usb"');
    expect(agent.output()).toContain('VIDEO_FPS: expected an integer from 1 to 120, got "fast"');
  });

  test('mosquitto_pub start/stop, a line per state, SIGTERM → offline and exit 0', async () => {
    const broker = await startMosquitto();
    cleanup.add(() => broker.stop());
    const run = await runAgent(cleanup, broker);

    await run.command('cli-start', 'start');
    await run.status('streaming');
    expect(await run.reply('cli-start')).toMatchObject({ ok: true, state: 'streaming' });
    expectMpegTsDatagrams(await run.listener.waitForMore(100));
    const pid = await run.encoderPid();

    await run.command('cli-stop', 'stop');
    expect(await run.reply('cli-stop')).toMatchObject({ ok: true, state: 'idle' });
    expect(groupAlive(pid)).toBe(false);

    await run.command('cli-start-2', 'start');
    await run.reply('cli-start-2');
    const second = Number([...run.agent.output().matchAll(/encoder running \(pid (\d+)\)/g)].at(-1)![1]);
    expect(await run.agent.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await run.status('offline');
    expect(groupAlive(second)).toBe(false);
    const lines = run.agent.output();
    for (const state of ['starting', 'streaming', 'idle', 'offline'])
      expect(lines).toMatch(new RegExp(`info  state ${state}`));
  });

  test('killed outright while idle: the broker publishes the Will, offline', async () => {
    const broker = await startMosquitto();
    cleanup.add(() => broker.stop());
    const run = await runAgent(cleanup, broker);
    await run.agent.stop('SIGKILL');
    const will = await run.status('offline');
    expect(will).toEqual({ state: 'offline', at: expect.any(String) });
  });

  test('killed outright while streaming: the Will, and the orphaned encoder stops by itself', async () => {
    const broker = await startMosquitto();
    cleanup.add(() => broker.stop());
    const run = await runAgent(cleanup, broker);
    await run.command('doomed', 'start');
    await run.reply('doomed');
    const pid = await run.encoderPid();
    // If the encoder outlived this test, kill it so nothing is left behind.
    cleanup.add(() => (groupAlive(pid) ? process.kill(-pid, 'SIGKILL') : undefined));

    await run.agent.stop('SIGKILL');
    await run.status('offline');
    // Its connected UDP socket gets ECONNREFUSED once the agent's socket is gone: ffmpeg exits.
    await waitFor('the orphaned encoder to exit', () => !groupAlive(pid), { timeoutMs: 5000 });
  });

  test('ALLOWED_TARGETS: a start to another target is refused (AGENT_ERR_TARGET_NOT_ALLOWED) and sends nothing there; the allowed one streams', async () => {
    const broker = await startMosquitto();
    cleanup.add(() => broker.stop());
    const foreign = await listenUdp(cleanup);
    const run = await runAgent(cleanup, broker, (listener) => ({
      ALLOWED_TARGETS: `127.0.0.1:${listener.port}`,
    }));
    const refusal = {
      ok: false,
      code: 'AGENT_ERR_TARGET_NOT_ALLOWED',
      message: `refused to stream to ${foreign.target}: ALLOWED_TARGETS lists only 127.0.0.1:${run.listener.port}`,
    };

    await run.command('to-foreign', 'start', foreign.target);
    expect(await run.reply('to-foreign')).toMatchObject({ ...refusal, state: 'idle' });
    expect(run.agent.output()).toContain(`rejected a control message: ${refusal.message}`);

    await run.command('to-allowed', 'start', run.listener.target);
    expect(await run.reply('to-allowed')).toMatchObject({ ok: true, state: 'streaming' });
    expectMpegTsDatagrams(await run.listener.waitForMore(100));

    // Streaming: a retarget to the foreign host is refused too, and the stream stays where it is.
    await run.command('retarget-foreign', 'start', foreign.target);
    expect(await run.reply('retarget-foreign')).toMatchObject({ ...refusal, state: 'streaming' });
    await run.listener.waitForMore(100);
    // Over a second of streaming after the refusals: not one datagram reached the other port.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(foreign.datagrams).toHaveLength(0);
  });
});
