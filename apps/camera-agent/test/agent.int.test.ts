/**
 * The whole agent in-process against a real Mosquitto, driven over MQTT the way the web service or
 * a person with an MQTT client does, with the real ffmpeg test source and a UDP listener as target.
 */
import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { tempDir, useCleanup } from '../../../test/helpers/cleanup.js';
import { startMosquitto, type Mosquitto } from '../../../test/helpers/mosquitto.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { startAgent } from '../src/agent.js';
import { loadAgentConfig } from '../src/config.js';
import { RETAINED_COMMAND_MESSAGE } from '../src/state-machine.js';
import { memoryLogger, startTestAgent } from './helpers/agent.js';
import { expectMpegTsDatagrams, groupAlive } from './helpers/mpegts.js';
import { watchCamera } from './helpers/mqtt-watch.js';
import { listenUdp } from './helpers/udp.js';

const ready = haveTools('ffmpeg', 'mosquitto', 'mosquitto_passwd');
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe.runIf(ready)('camera agent over MQTT', () => {
  const shared = useCleanup('file');
  const cleanup = useCleanup();
  let broker: Mosquitto;

  beforeAll(async () => {
    broker = await startMosquitto();
    shared.add(() => broker.stop());
  });

  test('publishes a retained idle status once connected', async () => {
    const { agent, cameraId } = await startTestAgent(cleanup, broker.url);
    expect(agent.state).toBe('idle');
    // A client that subscribes later gets it from the broker's store.
    const late = await watchCamera(cleanup, broker.url, cameraId);
    const status = await late.next('status', { state: 'idle' });
    expect(status.retained).toBe(true);
    expect(status.payload).toEqual({ state: 'idle', at: expect.stringMatching(ISO_TIME), source: 'test' });
  });

  test('start, duplicate, malformed payloads, stop: the user flow', async () => {
    const { agent, watcher, listener } = await startTestAgent(cleanup, broker.url);
    await watcher.next('status', { state: 'idle' });

    await watcher.command({ id: 'start-1', action: 'start' });
    const reply = await watcher.next('events', { commandId: 'start-1' });
    expect(reply.payload).toEqual({ commandId: 'start-1', ok: true, action: 'start', state: 'streaming' });
    expect(watcher.statuses()).toEqual(['idle', 'starting', 'streaming']);
    const streaming = await watcher.next('status', { state: 'streaming' });
    expect(streaming.payload).toMatchObject({ target: listener.target, source: 'test' });
    expectMpegTsDatagrams(await listener.waitForMore(100));
    const pid = agent.encoderPid;
    expect(pid).toBeDefined();

    // QoS 1 may deliver a command twice: the same reply again, not applied again.
    const before = watcher.messages.length;
    await watcher.command({ id: 'start-1', action: 'start' });
    const duplicate = await watcher.next(
      'events',
      { commandId: 'start-1', duplicate: true },
      { from: before },
    );
    expect(duplicate.payload).toEqual({ ...reply.payload, duplicate: true });
    expect(agent.encoderPid).toBe(pid);

    // Garbage gets an error reply and changes nothing.
    await watcher.command('{"id": "oops", "action": ');
    const garbage = await watcher.next('events', { ok: false, message: /not valid JSON/ });
    expect(garbage.payload.commandId).toBeNull();
    await watcher.command({ id: 'pause-1', action: 'pause' });
    const unknown = await watcher.next('events', { commandId: 'pause-1' });
    expect(unknown.payload).toEqual({
      commandId: 'pause-1',
      ok: false,
      message: 'invalid control command: action must be one of start, stop',
    });
    expect(watcher.statuses()).toEqual(['idle', 'starting', 'streaming']);
    expect(agent.encoderPid).toBe(pid);

    await watcher.command({ id: 'stop-1', action: 'stop' });
    expect((await watcher.next('events', { commandId: 'stop-1' })).payload).toEqual({
      commandId: 'stop-1',
      ok: true,
      action: 'stop',
      state: 'idle',
    });
    expect(watcher.statuses()).toEqual(['idle', 'starting', 'streaming', 'idle']);
    expect(agent.encoderPid).toBeUndefined();
    expect(groupAlive(pid!)).toBe(false);
    const count = listener.datagrams.length;
    await sleep(300);
    expect(listener.datagrams.length).toBe(count);

    // Stop while idle: a successful no-op.
    await watcher.command({ id: 'stop-2', action: 'stop' });
    expect((await watcher.next('events', { commandId: 'stop-2' })).payload).toMatchObject({
      ok: true,
      message: 'already idle',
    });
  });

  test('commands run in arrival order: a stop sent during a start is applied after it', async () => {
    const { agent, watcher } = await startTestAgent(cleanup, broker.url);
    await watcher.command({ id: 'q-start', action: 'start' });
    await watcher.command({ id: 'q-stop', action: 'stop' });
    await watcher.next('events', { commandId: 'q-stop' });
    expect(watcher.events().map((e) => [e.commandId, e.ok, e.state])).toEqual([
      ['q-start', true, 'streaming'],
      ['q-stop', true, 'idle'],
    ]);
    expect(watcher.statuses()).toEqual(['idle', 'starting', 'streaming', 'idle']);
    expect(agent.state).toBe('idle');
  });

  test('a start with a target streams there; another target later moves the stream', async () => {
    const { watcher, listener } = await startTestAgent(cleanup, broker.url);
    const other = await listenUdp(cleanup);
    await watcher.command({ id: 't1', action: 'start', target: other.target });
    await watcher.next('events', { commandId: 't1', ok: true });
    expectMpegTsDatagrams(await other.waitForMore(50));
    expect(listener.datagrams).toHaveLength(0);

    await watcher.command({ id: 't2', action: 'start', target: listener.target });
    expect((await watcher.next('events', { commandId: 't2' })).payload).toMatchObject({
      ok: true,
      message: `now streaming to ${listener.target}`,
    });
    await listener.waitForMore(50);
    expect(await watcher.next('status', { state: 'streaming', target: listener.target })).toBeDefined();
  });

  test('a start that fails: status error with the reason, reply ok:false; stop clears it', async () => {
    const { watcher } = await startTestAgent(cleanup, broker.url, { FFMPEG_PATH: '/nonexistent/ffmpeg' });
    await watcher.command({ id: 'bad-start', action: 'start' });
    const reply = await watcher.next('events', { commandId: 'bad-start' });
    expect(reply.payload).toMatchObject({ ok: false, action: 'start', state: 'error', message: /ENOENT/ });
    const error = await watcher.next('status', { state: 'error' });
    expect(error.payload.message).toBe(reply.payload.message);
    await sleep(1500); // no restart for a start that failed when commanded
    expect(watcher.statuses()).toEqual(['idle', 'starting', 'error']);

    await watcher.command({ id: 'clear', action: 'stop' });
    await watcher.next('events', { commandId: 'clear', ok: true, state: 'idle' });
    expect(watcher.statuses().at(-1)).toBe('idle');
  });

  test('an encoder that dies while streaming: error, an event, a restart with backoff, streaming again', async () => {
    const { agent, watcher, listener } = await startTestAgent(cleanup, broker.url);
    await watcher.command({ id: 'live', action: 'start' });
    await watcher.next('events', { commandId: 'live', ok: true });
    const firstPid = agent.encoderPid!;

    process.kill(firstPid, 'SIGKILL');
    const event = await watcher.next('events', { commandId: null });
    expect(event.payload).toEqual({
      commandId: null,
      ok: false,
      state: 'error',
      message: 'the encoder was killed by SIGKILL; restarting in 500 ms',
    });
    await watcher.next('status', { state: 'error', message: /restarting in 500 ms/ });
    const from = watcher.messages.length;
    await watcher.next('status', { state: 'streaming' }, { from });
    expect(agent.encoderPid).not.toBe(firstPid);
    expectMpegTsDatagrams(await listener.waitForMore(50));
    expect(watcher.statuses().slice(-4)).toEqual(['streaming', 'error', 'starting', 'streaming']);
  });

  test('a stop while a restart is pending cancels the restart', async () => {
    const { agent, watcher } = await startTestAgent(cleanup, broker.url);
    await watcher.command({ id: 'live', action: 'start' });
    await watcher.next('events', { commandId: 'live', ok: true });
    process.kill(agent.encoderPid!, 'SIGKILL');
    await watcher.next('events', { commandId: null, message: /restarting in 500 ms/ });
    await watcher.command({ id: 'enough', action: 'stop' });
    await watcher.next('events', { commandId: 'enough', ok: true, state: 'idle' });
    await sleep(1000);
    expect(agent.encoderPid).toBeUndefined();
    expect(watcher.statuses().slice(-2)).toEqual(['error', 'idle']);
  });

  test('an encoder that stalls (SIGSTOP) is replaced', async () => {
    const { agent, watcher } = await startTestAgent(cleanup, broker.url, { STALL_TIMEOUT_MS: '800' });
    await watcher.command({ id: 'live', action: 'start' });
    await watcher.next('events', { commandId: 'live', ok: true });
    const stuck = agent.encoderPid!;
    process.kill(stuck, 'SIGSTOP');
    const event = await watcher.next('events', { commandId: null });
    expect(event.payload.message).toMatch(/^the encoder sent no data for \d+ ms; restarting in 500 ms$/);
    const from = watcher.messages.length;
    await watcher.next('status', { state: 'streaming' }, { from });
    expect(groupAlive(stuck)).toBe(false);
  });

  test('a retained control message is refused, not applied', async () => {
    const cameraId = 'cam-retained';
    const publisher = await watchCamera(cleanup, broker.url, cameraId);
    await publisher.command({ id: 'stale-start', action: 'start' }, { retain: true });
    cleanup.add(() =>
      publisher.client.publishAsync(`cameras/${cameraId}/control`, '', { qos: 1, retain: true }),
    );

    const log: string[] = [];
    const config = loadAgentConfig({ MQTT_URL: broker.url, CAMERA_ID: cameraId });
    const agent = await startAgent(config, { logger: memoryLogger(log) });
    cleanup.add(() => agent.close());
    const reply = await publisher.next('events', { commandId: 'stale-start' });
    expect(reply.payload).toEqual({
      commandId: 'stale-start',
      ok: false,
      state: 'idle',
      message: RETAINED_COMMAND_MESSAGE,
    });
    await sleep(500);
    expect(agent.state).toBe('idle');
    expect(log.join('')).toContain(`clear it with: mosquitto_pub -r -n -t cameras/${cameraId}/control`);
  });

  test('close(): stops the encoder, publishes offline (retained), and is idempotent', async () => {
    const { agent, watcher, cameraId } = await startTestAgent(cleanup, broker.url);
    await watcher.command({ id: 'go', action: 'start' });
    await watcher.next('events', { commandId: 'go', ok: true });
    const pid = agent.encoderPid!;
    const closing = agent.close();
    expect(agent.close()).toBe(closing);
    await closing;
    expect(agent.state).toBe('offline');
    expect(groupAlive(pid)).toBe(false);
    const late = await watchCamera(cleanup, broker.url, cameraId);
    const offline = await late.next('status', { state: 'offline' });
    expect(offline.retained).toBe(true);
  });

  test('a stop during a start that cannot succeed waits for it, then stops', async () => {
    // The stand-in refuses a device that is not there: start fails after the process exits.
    const { watcher } = await startTestAgent(cleanup, broker.url, {
      CAMERA_SOURCE: 'v4l2',
      FFMPEG_PATH: join(import.meta.dirname, 'fixtures', 'ffmpeg'),
      V4L2_DEVICE: '/dev/video9',
    });
    await watcher.command({ id: 'cam-start', action: 'start' });
    await watcher.command({ id: 'cam-stop', action: 'stop' });
    await watcher.next('events', { commandId: 'cam-stop' });
    expect(watcher.events().map((e) => [e.commandId, e.ok, e.state])).toEqual([
      ['cam-start', false, 'error'],
      ['cam-stop', true, 'idle'],
    ]);
    expect(watcher.events()[0]!.message).toMatch(/\/dev\/video9: No such file or directory/);
  });
});

describe.runIf(ready)('camera agent and the broker', () => {
  const cleanup = useCleanup();

  test('after a broker restart it reconnects and republishes its status', async () => {
    const broker = await startMosquitto(); // persistence off: the restart forgets retained messages
    cleanup.add(() => broker.stop());
    const { agent, watcher, cameraId, log } = await startTestAgent(cleanup, broker.url);
    await watcher.command({ id: 'go', action: 'start' });
    await watcher.next('events', { commandId: 'go', ok: true });

    await broker.restart();
    await waitFor('the agent to reconnect', () =>
      log.some((line) => line.includes('reconnected to the MQTT broker')),
    );
    const late = await watchCamera(cleanup, broker.url, cameraId);
    const status = await late.next('status', { state: 'streaming' });
    expect(status.retained).toBe(true);
    // The control subscription is back too.
    await late.command({ id: 'stop-after-restart', action: 'stop' });
    await late.next('events', { commandId: 'stop-after-restart', ok: true });
    expect(agent.state).toBe('idle');
  });

  test('wrong credentials: startAgent rejects with AGENT_ERR_MQTT_REFUSED', async () => {
    const dir = await tempDir(cleanup, 'camstream-agent-auth-');
    await chmod(dir, 0o755); // mosquitto reads the file after dropping root
    const passwd = join(dir, 'passwd');
    await writeFile(passwd, '', { mode: 0o644 });
    await promisify(execFile)('mosquitto_passwd', ['-b', passwd, 'cam1', 'right']);
    const broker = await startMosquitto({ extraConfig: `allow_anonymous false\npassword_file ${passwd}` });
    cleanup.add(() => broker.stop());

    const config = (password: string) =>
      loadAgentConfig({ MQTT_URL: broker.url, MQTT_USERNAME: 'cam1', MQTT_PASSWORD: password });
    const log: string[] = [];
    await expect(startAgent(config('wrong'), { logger: memoryLogger(log) })).rejects.toMatchObject({
      code: 'AGENT_ERR_MQTT_REFUSED',
      message: /refused the user name or password.*Bad username or password|not authorized.*Not authorized/i,
    });
    const agent = await startAgent(config('right'), { logger: memoryLogger(log) });
    cleanup.add(() => agent.close());
    await waitFor('the agent to be idle', () => agent.state === 'idle');
  });
});
