/**
 * Home Assistant discovery, pure: the payload builder (ha-payloads.ts) and its settings. The
 * templates Home Assistant renders are rendered here with real Jinja2 (test/helpers/jinja.ts).
 */
import { describe, expect, test } from 'vitest';
import { CAMERA_STATES, parseControlCommand } from '@camstream/protocol';
import { loadServiceConfig } from '../src/config.js';
import {
  CAMERA_AVAILABILITY_TEMPLATE,
  clearingMessages,
  COMMAND_TEMPLATE,
  discoveryMessages,
  objectIdOf,
  SWITCH_STATE_TEMPLATE,
  type DiscoveryOptions,
} from '../src/mqtt/ha-payloads.js';
import { haveJinja, renderTemplates } from '../../../test/helpers/jinja.js';

const OPTIONS: DiscoveryOptions = {
  prefix: 'homeassistant',
  nodeId: 'camstream',
  swVersion: '0.1.0',
  publicUrl: 'http://cams.lan:8080',
};

type Config = Record<string, unknown>;

function configs(cameraId: string, target?: string): Record<string, Config> {
  const messages = discoveryMessages(OPTIONS, { cameraId, target });
  return Object.fromEntries(messages.map((m) => [m.topic, JSON.parse(m.payload) as Config]));
}

describe('discovery configs', () => {
  test('one device with a switch, a state sensor and a camera, on the documented topics', () => {
    const all = configs('cam1', 'udp://10.0.0.5:1240');
    expect(Object.keys(all)).toEqual([
      'homeassistant/switch/camstream/cam1/config',
      'homeassistant/sensor/camstream/cam1/config',
      'homeassistant/camera/camstream/cam1/config',
    ]);
    const entities = Object.values(all);
    // Keys every discovered entity needs to be grouped in a device.
    for (const config of entities) {
      expect(config).toMatchObject({
        unique_id: expect.stringMatching(/^camstream_cam1_/),
        name: expect.any(String),
        device: {
          identifiers: ['camstream_cam1'],
          name: 'cam1',
          manufacturer: 'camstream',
          model: expect.any(String),
          sw_version: '0.1.0',
          configuration_url: 'http://cams.lan:8080',
        },
        origin: { name: 'camstream', sw_version: '0.1.0' },
      });
    }
    expect(new Set(entities.map((c) => c.unique_id)).size).toBe(3);

    const sw = all['homeassistant/switch/camstream/cam1/config']!;
    expect(sw).toMatchObject({
      command_topic: 'cameras/cam1/control',
      state_topic: 'cameras/cam1/status',
      qos: 1,
      retain: false,
      state_on: 'ON',
      state_off: 'OFF',
      availability_mode: 'all',
      availability: [
        { topic: 'camstream/availability' },
        { topic: 'cameras/cam1/status', value_template: CAMERA_AVAILABILITY_TEMPLATE },
      ],
    });
    const sensor = all['homeassistant/sensor/camstream/cam1/config']!;
    expect(sensor).toMatchObject({
      state_topic: 'cameras/cam1/status',
      device_class: 'enum',
      options: [...CAMERA_STATES],
    });
    const camera = all['homeassistant/camera/camstream/cam1/config']!;
    expect(camera).toMatchObject({ topic: 'camstream/cam1/snapshot' });
  });

  test('the switch payloads are valid control commands: a start with the camera’s target, a stop', () => {
    const sw = configs('garage', 'udp://10.0.0.5:1241')['homeassistant/switch/camstream/garage/config']!;
    const on = parseControlCommand(sw.payload_on as string);
    const off = parseControlCommand(sw.payload_off as string);
    expect(on).toEqual({
      ok: true,
      value: { id: 'ha-garage-start', action: 'start', target: 'udp://10.0.0.5:1241' },
    });
    expect(off).toEqual({ ok: true, value: { id: 'ha-garage-stop', action: 'stop' } });
    // A camera without a target from the service starts to its own.
    const bare = configs('cam1')['homeassistant/switch/camstream/cam1/config']!;
    expect(JSON.parse(bare.payload_on as string)).toEqual({ id: 'ha-cam1-start', action: 'start' });
  });

  test('a camera id with dots gets a topic level Home Assistant accepts, still unique', () => {
    expect(objectIdOf('cam1')).toBe('cam1');
    expect(objectIdOf('front_door-2')).toBe('front_door-2');
    const dotted = objectIdOf('porch.left');
    expect(dotted).toMatch(/^porch_left_[0-9a-f]{8}$/);
    expect(objectIdOf('porch_left')).not.toBe(dotted);
    expect(objectIdOf('porch.left')).toBe(dotted);
    const topics = discoveryMessages(OPTIONS, { cameraId: 'porch.left', target: undefined }).map(
      (m) => m.topic,
    );
    for (const topic of topics) expect(topic.split('/')[3]).toBe(dotted);
    // The control and status topics keep the camera's own id.
    const sw = JSON.parse(
      discoveryMessages(OPTIONS, { cameraId: 'porch.left', target: undefined })[0]!.payload,
    ) as Config;
    expect(sw.command_topic).toBe('cameras/porch.left/control');
  });

  test('a forgotten camera’s configs and snapshot are cleared with empty payloads', () => {
    expect(clearingMessages(OPTIONS, 'cam2')).toEqual([
      { topic: 'homeassistant/switch/camstream/cam2/config', payload: '' },
      { topic: 'homeassistant/sensor/camstream/cam2/config', payload: '' },
      { topic: 'homeassistant/camera/camstream/cam2/config', payload: '' },
      { topic: 'camstream/cam2/snapshot', payload: '' },
    ]);
  });

  test('no public URL: no configuration_url', () => {
    const [sw] = discoveryMessages(
      { ...OPTIONS, publicUrl: undefined },
      { cameraId: 'c', target: undefined },
    );
    expect((JSON.parse(sw!.payload) as { device: Config }).device).not.toHaveProperty('configuration_url');
  });
});

describe.runIf(haveJinja())('the templates, rendered by Jinja2', () => {
  test('each press of the switch sends its command with a fresh id; the state and availability follow the status', async () => {
    const sw = configs('cam1', 'udp://127.0.0.1:1240')['homeassistant/switch/camstream/cam1/config']!;
    expect(sw.command_template).toBe(COMMAND_TEMPLATE);
    // The longest camera id still gives an id the contract accepts (at most 128 characters).
    const long = JSON.parse(
      discoveryMessages(OPTIONS, { cameraId: 'c'.repeat(64), target: undefined })[0]!.payload,
    ) as Config;
    const status = (state: string) => JSON.stringify({ state, at: '2026-12-06T00:00:00Z' });
    const [first, second, stop, longest, empty, garbage, ...perState] = await renderTemplates([
      [COMMAND_TEMPLATE, sw.payload_on as string],
      [COMMAND_TEMPLATE, sw.payload_on as string],
      [COMMAND_TEMPLATE, sw.payload_off as string],
      [COMMAND_TEMPLATE, long.payload_on as string],
      [CAMERA_AVAILABILITY_TEMPLATE, ''],
      [CAMERA_AVAILABILITY_TEMPLATE, 'garbage'],
      ...CAMERA_STATES.flatMap((state) => [
        [SWITCH_STATE_TEMPLATE, status(state)] as const,
        [CAMERA_AVAILABILITY_TEMPLATE, status(state)] as const,
      ]),
    ]);

    const on1 = parseControlCommand(first!);
    const on2 = parseControlCommand(second!);
    expect(on1).toMatchObject({
      ok: true,
      value: {
        id: expect.stringMatching(/^ha-cam1-start-\d{16,}$/),
        action: 'start',
        target: 'udp://127.0.0.1:1240',
      },
    });
    expect(on2.ok && on1.ok && on2.value.id !== on1.value.id).toBe(true);
    expect(parseControlCommand(stop!)).toMatchObject({
      ok: true,
      value: { id: expect.stringMatching(/^ha-cam1-stop-\d+$/), action: 'stop' },
    });
    expect(parseControlCommand(longest!).ok).toBe(true);

    const expected = { offline: 'OFF', idle: 'OFF', starting: 'ON', streaming: 'ON', error: 'OFF' };
    CAMERA_STATES.forEach((state, i) => {
      expect(perState[2 * i], state).toBe(expected[state]);
      expect(perState[2 * i + 1], state).toBe(state === 'offline' ? 'offline' : 'online');
    });
    // A cleared status (empty) or one that is not JSON: unavailable, not a template error.
    expect([empty, garbage]).toEqual(['offline', 'offline']);
    // python3 starts in a second or two on a busy machine.
  }, 30_000);
});

describe('settings', () => {
  test('off by default; read when set', () => {
    expect(loadServiceConfig({})).toMatchObject({
      haDiscovery: false,
      haDiscoveryPrefix: 'homeassistant',
      haNodeId: 'camstream',
      haSnapshotSeconds: 10,
      haPublicUrl: undefined,
    });
    expect(
      loadServiceConfig({
        HA_DISCOVERY: 'true',
        HA_DISCOVERY_PREFIX: 'ha/discovery',
        HA_NODE_ID: 'garage_service',
        HA_SNAPSHOT_SECONDS: '30',
        HA_PUBLIC_URL: 'https://cams.example.org/',
      }),
    ).toMatchObject({
      haDiscovery: true,
      haDiscoveryPrefix: 'ha/discovery',
      haNodeId: 'garage_service',
      haSnapshotSeconds: 30,
      haPublicUrl: 'https://cams.example.org',
    });
    expect(loadServiceConfig({ HA_DISCOVERY: 'on' }).haDiscovery).toBe(true);
  });

  test('bad values are reported together in one WEB_ERR_CONFIG', () => {
    let error: unknown;
    try {
      loadServiceConfig({
        HA_DISCOVERY: 'yes',
        HA_DISCOVERY_PREFIX: 'homeassistant/#',
        HA_NODE_ID: 'my node',
        HA_SNAPSHOT_SECONDS: '0',
        HA_PUBLIC_URL: 'ftp://cams',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'WEB_ERR_CONFIG' });
    const message = (error as Error).message;
    expect(message).toMatch(/HA_DISCOVERY="yes": must be true or false/);
    expect(message).toMatch(/HA_DISCOVERY_PREFIX="homeassistant\/#": must be topic levels/);
    expect(message).toMatch(/HA_NODE_ID="my node": must be 1-64 letters/);
    expect(message).toMatch(/HA_SNAPSHOT_SECONDS="0": must be a whole number from 1 to 3600/);
    expect(message).toMatch(/HA_PUBLIC_URL="ftp:\/\/cams": must use http:\/\/ or https:\/\//);
  });

  test('the node id may not be the discovery prefix’s first level', () => {
    expect(() => loadServiceConfig({ HA_DISCOVERY: 'true', HA_NODE_ID: 'homeassistant' })).toThrow(
      /HA_NODE_ID="homeassistant": must differ from the first level of HA_DISCOVERY_PREFIX/,
    );
    // Only checked when discovery is on.
    expect(() => loadServiceConfig({ HA_NODE_ID: 'homeassistant' })).not.toThrow();
  });
});
