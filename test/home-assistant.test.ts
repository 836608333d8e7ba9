/**
 * Home Assistant discovery against a real Mosquitto, the service and agent as users run them: the
 * retained discovery configs arrive with the keys Home Assistant needs; the switch's payload_on,
 * published with mosquitto_pub as a user would, starts the stream and payload_off stops it; a press
 * as Home Assistant makes it (the command_template rendered by real Jinja2) starts it again; the
 * state and availability templates follow the camera's status; snapshots reach the camera entity's
 * topic; a forgotten camera's configs are cleared; the service's availability says offline when it
 * stops or dies.
 */
import { describe, expect, test } from 'vitest';
import { useCleanup } from './helpers/cleanup.js';
import { haveJinja, renderTemplates } from './helpers/jinja.js';
import { mosquittoPub } from './helpers/mqtt-cli.js';
import { mqttProbe, type MqttProbe, type Received } from './helpers/mqtt-client.js';
import { startSystem, type System } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'mosquitto', 'mosquitto_pub', 'mosquitto_sub') && haveJinja();

type Config = Record<string, unknown> & {
  unique_id: string;
  device: { identifiers: string[]; name: string };
  availability?: { topic: string; value_template?: string }[];
};

const STREAM_MS = 30_000;

/** The three configs of a camera, as a new subscriber gets them (retained). */
async function configsOf(
  probe: MqttProbe,
  cameraId: string,
): Promise<{ switch: Config; sensor: Config; camera: Config }> {
  const entries = await Promise.all(
    ['switch', 'sensor', 'camera'].map(async (component) => {
      const topic = `homeassistant/${component}/camstream/${cameraId}/config`;
      const message = await probe.next((m) => m.topic === topic && m.payload.length > 0, {
        timeoutMs: 10_000,
      });
      return [component, JSON.parse(message.payload.toString()) as Config] as const;
    }),
  );
  return Object.fromEntries(entries) as { switch: Config; sensor: Config; camera: Config };
}

const isStatus = (cameraId: string, state: string) => (m: Received) =>
  m.topic === `cameras/${cameraId}/status` &&
  m.payload.length > 0 &&
  (JSON.parse(m.payload.toString()) as { state: string }).state === state;

async function serviceState(system: System, cameraId: string): Promise<string> {
  const { body } = await system.api(`/api/cameras/${cameraId}`);
  return (body as { state: string }).state;
}

describe.runIf(ready)('Home Assistant discovery on a real Mosquitto', () => {
  const cleanup = useCleanup();

  test('the switch starts and stops the stream; state, availability and snapshots follow', async () => {
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      webEnv: { HA_DISCOVERY: 'true', HA_SNAPSHOT_SECONDS: '1', HA_PUBLIC_URL: 'http://cams.lan:8080' },
    });
    const broker = { port: system.mqttPort };
    const probe = await mqttProbe(cleanup, system.mqttUrl, 'homeassistant/#');
    await probe.client.subscribeAsync(['camstream/#', 'cameras/#'], { qos: 1 });

    // The configs are retained, with the keys discovery requires, grouped in one device.
    const { switch: sw, sensor, camera } = await configsOf(probe, 'cam1');
    const retained = probe.messages.filter((m) => m.topic.endsWith('/cam1/config'));
    expect(retained.every((m) => m.retain)).toBe(true);
    expect(sw).toMatchObject({
      command_topic: 'cameras/cam1/control',
      state_topic: 'cameras/cam1/status',
      payload_on: expect.any(String),
      payload_off: expect.any(String),
      command_template: expect.any(String),
      value_template: expect.any(String),
    });
    expect(sensor).toMatchObject({ state_topic: 'cameras/cam1/status', value_template: expect.any(String) });
    expect(camera).toMatchObject({ topic: 'camstream/cam1/snapshot' });
    for (const config of [sw, sensor, camera]) {
      expect(config.unique_id).toMatch(/^camstream_cam1_/);
      expect(config.device).toMatchObject({
        identifiers: ['camstream_cam1'],
        name: 'cam1',
        manufacturer: 'camstream',
        sw_version: expect.any(String),
        configuration_url: 'http://cams.lan:8080',
      });
    }
    const available = await probe.next((m) => m.topic === 'camstream/availability');
    expect(available.payload.toString()).toBe('online');
    expect(available.retain).toBe(true);

    // What Home Assistant makes of the camera's status, rendered with the configs' own templates.
    const [stateTemplate, availabilityTemplate] = [
      sw.value_template as string,
      sw.availability![1]!.value_template!,
    ];
    const reading = async (status: Received) =>
      renderTemplates([
        [stateTemplate, status.payload.toString()],
        [availabilityTemplate, status.payload.toString()],
      ]);
    expect(await reading(await probe.next(isStatus('cam1', 'idle')))).toEqual(['OFF', 'online']);

    // payload_on, published as is with mosquitto_pub, as a user would: the stream starts.
    let from = probe.messages.length;
    await mosquittoPub(broker, sw.command_topic as string, sw.payload_on as string);
    const streaming = await probe.next(isStatus('cam1', 'streaming'), { from, timeoutMs: STREAM_MS });
    expect(await reading(streaming)).toEqual(['ON', 'online']);
    await waitFor('the service to go live', async () => (await serviceState(system, 'cam1')) === 'live');

    // Snapshots reach the camera entity's topic: JPEG bytes, retained.
    const snapshot = await probe.next((m) => m.topic === 'camstream/cam1/snapshot' && m.payload.length > 0, {
      from,
      timeoutMs: 10_000,
    });
    expect(snapshot.payload.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(snapshot.payload.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    expect(snapshot.payload.length).toBeGreaterThan(2000);
    // More come while it streams.
    await probe.next((m) => m.topic === 'camstream/cam1/snapshot' && m !== snapshot, {
      from: probe.messages.indexOf(snapshot) + 1,
      timeoutMs: 10_000,
    });

    // payload_off stops it.
    from = probe.messages.length;
    await mosquittoPub(broker, sw.command_topic as string, sw.payload_off as string);
    expect(await reading(await probe.next(isStatus('cam1', 'idle'), { from, timeoutMs: STREAM_MS }))).toEqual(
      ['OFF', 'online'],
    );
    await waitFor('the service to stop', async () => (await serviceState(system, 'cam1')) === 'idle');

    // Pressed again as Home Assistant does (its command_template): a fresh id, so the camera starts
    // again, where the same payload_on would only be acknowledged as a duplicate.
    const [pressOn, pressOff] = await renderTemplates([
      [sw.command_template as string, sw.payload_on as string],
      [sw.command_template as string, sw.payload_off as string],
    ]);
    from = probe.messages.length;
    await mosquittoPub(broker, sw.command_topic as string, pressOn!);
    await probe.next(isStatus('cam1', 'streaming'), { from, timeoutMs: STREAM_MS });
    await waitFor(
      'the service to go live again',
      async () => (await serviceState(system, 'cam1')) === 'live',
    );
    from = probe.messages.length;
    await mosquittoPub(broker, sw.command_topic as string, pressOff!);
    await probe.next(isStatus('cam1', 'idle'), { from, timeoutMs: STREAM_MS });

    // The camera goes away: unavailable.
    from = probe.messages.length;
    await system.agent!.stop();
    expect(await reading(await probe.next(isStatus('cam1', 'offline'), { from, timeoutMs: 10_000 }))).toEqual(
      ['OFF', 'offline'],
    );

    // The service stops: it says offline; killed, its Last Will says it.
    from = probe.messages.length;
    await system.web.stop();
    const goodbye = await probe.next((m) => m.topic === 'camstream/availability', {
      from,
      timeoutMs: 10_000,
    });
    expect(goodbye.payload.toString()).toBe('offline');
    // (It says online as soon as it connects, before its HTTP server answers.)
    from = probe.messages.length;
    await system.startWeb();
    await probe.next((m) => m.topic === 'camstream/availability' && m.payload.toString() === 'online', {
      from,
    });
    from = probe.messages.length;
    await system.web.stop('SIGKILL');
    const will = await probe.next((m) => m.topic === 'camstream/availability', { from, timeoutMs: 10_000 });
    expect(will.payload.toString()).toBe('offline');
  });

  test('a discovered camera appears with its own target, and its configs are cleared once forgotten', async () => {
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      agent: false,
      webEnv: { HA_DISCOVERY: 'true', CAMERA_DISCOVERY: 'on', CAMERA_FORGET_MS: '1000' },
    });
    const broker = { port: system.mqttPort };
    const probe = await mqttProbe(cleanup, system.mqttUrl, 'homeassistant/+/camstream/+/config');
    await configsOf(probe, 'cam1');

    // A camera announces itself (as an agent does: a retained status).
    const status = (state: string) => JSON.stringify({ state, at: new Date().toISOString() });
    await mosquittoPub(broker, 'cameras/yard/status', status('idle'), { retain: true });
    const { switch: sw } = await configsOf(probe, 'yard');
    expect(sw.command_topic).toBe('cameras/yard/control');
    // Its start tells it the port the service gave it.
    expect(JSON.parse(sw.payload_on as string)).toMatchObject({
      action: 'start',
      target: expect.stringMatching(/^udp:\/\/127\.0\.0\.1:(12[4-9]\d|13[0-3]\d)$/),
    });

    // Offline for CAMERA_FORGET_MS: forgotten, and its entities removed (empty retained payloads).
    const from = probe.messages.length;
    await mosquittoPub(broker, 'cameras/yard/status', status('offline'), { retain: true });
    for (const component of ['switch', 'sensor', 'camera']) {
      const topic = `homeassistant/${component}/camstream/yard/config`;
      await probe.next((m) => m.topic === topic && m.payload.length === 0, { from, timeoutMs: 10_000 });
    }
    await waitFor(
      'the camera to be forgotten',
      async () => (await system.api('/api/cameras/yard')).status === 404,
    );
    // Nothing retained is left for it: a new subscriber gets cam1's configs only.
    const fresh = await mqttProbe(cleanup, system.mqttUrl, 'homeassistant/+/camstream/+/config');
    await configsOf(fresh, 'cam1');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fresh.messages.filter((m) => m.topic.includes('/yard/'))).toEqual([]);
  });
});
