/**
 * Home Assistant MQTT discovery, pure: a camera in, its retained discovery messages out. Each camera
 * becomes one Home Assistant device with three entities:
 * - a `switch` "Stream" whose command topic is the camera's control topic and whose payloads are
 *   control commands of the contract (a start, a stop); its state comes from the camera's status;
 * - a `sensor` "State": the camera's status (offline, idle, starting, streaming, error);
 * - a `camera` "Snapshot": Home Assistant's MQTT camera shows the image bytes published on a topic,
 *   so the service publishes the camera's snapshot there (home-assistant.ts).
 * The publishing is home-assistant.ts; the user's walk-through is docs/home-assistant.md.
 */
import { createHash } from 'node:crypto';
import { CAMERA_STATES, cameraTopics, type ControlCommand } from '@camstream/protocol';
import { HA_ID_PATTERN } from './ha-settings.js';

export interface DiscoveryOptions {
  readonly prefix: string;
  readonly nodeId: string;
  /** The service's version, shown as the device's and the origin's software version. */
  readonly swVersion: string;
  /** The web client's address; the device page links to it. */
  readonly publicUrl: string | undefined;
}

export interface DiscoveryCamera {
  readonly cameraId: string;
  /** The udp:// target its start commands carry; undefined: the camera sends to its own default. */
  readonly target: string | undefined;
}

export interface RetainedMessage {
  readonly topic: string;
  /** JSON text; empty: clears the retained config (Home Assistant removes the entity). */
  readonly payload: string;
}

export const HA_COMPONENTS = ['switch', 'sensor', 'camera'] as const;
export type HaComponent = (typeof HA_COMPONENTS)[number];

/**
 * The camera id as one discovery topic level (`[A-Za-z0-9_-]`): as is when it fits; otherwise
 * (a `.` in it) the other characters become `_` and a hash of the id keeps it unique.
 */
export function objectIdOf(cameraId: string): string {
  if (HA_ID_PATTERN.test(cameraId)) return cameraId;
  const hash = createHash('sha256').update(cameraId).digest('hex').slice(0, 8);
  return `${cameraId.replace(/[^A-Za-z0-9_-]/g, '_')}_${hash}`;
}

/** The service's own availability: `online`, retained; `offline` is its Last Will. */
export function availabilityTopic(nodeId: string): string {
  return `${nodeId}/availability`;
}

/** Where the camera's snapshots are published (JPEG bytes, retained): its camera entity's topic. */
export function snapshotTopic(nodeId: string, cameraId: string): string {
  return `${nodeId}/${cameraId}/snapshot`;
}

export function discoveryTopic(options: DiscoveryOptions, component: HaComponent, cameraId: string): string {
  return `${options.prefix}/${component}/${options.nodeId}/${objectIdOf(cameraId)}/config`;
}

/** The switch's payloads: control commands as the contract has them (a user may publish them as is). */
export function switchCommands(camera: DiscoveryCamera): { on: ControlCommand; off: ControlCommand } {
  return {
    on: {
      id: `ha-${camera.cameraId}-start`,
      action: 'start',
      ...(camera.target !== undefined && { target: camera.target }),
    },
    off: { id: `ha-${camera.cameraId}-stop`, action: 'stop' },
  };
}

/**
 * Home Assistant sends payload_on or payload_off through this template. The camera applies a command
 * id once (a repeat is a QoS 1 duplicate), so each press gets a fresh id: the payload's own, with the
 * time in microseconds after it. Everything else (action, target) is sent as it is.
 */
export const COMMAND_TEMPLATE =
  "{% set command = value | from_json %}{{ dict(command, id=command.id ~ '-' ~ (now().timestamp() * 1000000) | int) | to_json }}";

/** ON while the camera starts or streams. */
export const SWITCH_STATE_TEMPLATE = "{{ 'ON' if value_json.state in ['starting', 'streaming'] else 'OFF' }}";

/** The camera is there unless its status says offline (its Last Will) or was cleared. */
export const CAMERA_AVAILABILITY_TEMPLATE =
  "{{ 'online' if value_json is defined and value_json.state is defined and value_json.state != 'offline' else 'offline' }}";

function device(options: DiscoveryOptions, cameraId: string): Record<string, unknown> {
  return {
    identifiers: [`${options.nodeId}_${objectIdOf(cameraId)}`],
    name: cameraId,
    manufacturer: 'camstream',
    model: 'camstream camera',
    sw_version: options.swVersion,
    ...(options.publicUrl !== undefined && { configuration_url: options.publicUrl }),
  };
}

/** The retained discovery configs of one camera, one per entity. */
export function discoveryMessages(options: DiscoveryOptions, camera: DiscoveryCamera): RetainedMessage[] {
  const { cameraId } = camera;
  const topics = cameraTopics(cameraId);
  const uniqueId = (entity: string) => `${options.nodeId}_${objectIdOf(cameraId)}_${entity}`;
  const common = {
    device: device(options, cameraId),
    origin: { name: 'camstream', sw_version: options.swVersion },
  };
  const service = { topic: availabilityTopic(options.nodeId) };
  const commands = switchCommands(camera);
  const configs: Record<HaComponent, Record<string, unknown>> = {
    switch: {
      name: 'Stream',
      unique_id: uniqueId('stream'),
      icon: 'mdi:cctv',
      command_topic: topics.control,
      payload_on: JSON.stringify(commands.on),
      payload_off: JSON.stringify(commands.off),
      command_template: COMMAND_TEMPLATE,
      // The contract: commands at QoS 1, never retained.
      qos: 1,
      retain: false,
      state_topic: topics.status,
      value_template: SWITCH_STATE_TEMPLATE,
      state_on: 'ON',
      state_off: 'OFF',
      optimistic: false,
      // Available when a press can give a stream: the service is up and the camera is not offline.
      availability: [service, { topic: topics.status, value_template: CAMERA_AVAILABILITY_TEMPLATE }],
      availability_mode: 'all',
      ...common,
    },
    sensor: {
      name: 'State',
      unique_id: uniqueId('state'),
      icon: 'mdi:cctv',
      state_topic: topics.status,
      value_template: '{{ value_json.state }}',
      device_class: 'enum',
      options: [...CAMERA_STATES],
      // The status's other fields (at, message, target, source) as attributes.
      json_attributes_topic: topics.status,
      ...common,
    },
    camera: {
      name: 'Snapshot',
      unique_id: uniqueId('snapshot'),
      topic: snapshotTopic(options.nodeId, cameraId),
      // The last picture stays visible while the camera is offline; only the service's absence hides it.
      availability: [service],
      ...common,
    },
  };
  return HA_COMPONENTS.map((component) => ({
    topic: discoveryTopic(options, component, cameraId),
    payload: JSON.stringify(configs[component]),
  }));
}

/** Empty retained payloads on every topic the camera had: Home Assistant removes its entities. */
export function clearingMessages(options: DiscoveryOptions, cameraId: string): RetainedMessage[] {
  return [
    ...HA_COMPONENTS.map((component) => ({
      topic: discoveryTopic(options, component, cameraId),
      payload: '',
    })),
    { topic: snapshotTopic(options.nodeId, cameraId), payload: '' },
  ];
}
