/**
 * The service's configuration: the only module that reads environment variables. Defaults live in
 * one table, every variable is checked, all problems are reported at once in one WEB_ERR_CONFIG
 * error, and the result is frozen.
 */
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CAMERA_ID, DEFAULT_UDP_TARGET, parseUdpTarget } from '@camstream/protocol';
import { createError } from './errors.js';
import {
  cameraListProblems,
  parseAddressList,
  parseCameraList,
  parsePortRange,
  unservableCameraId,
  type ConfiguredCamera,
  type PortRange,
} from './cameras/settings.js';
import { WEBRTC_VARIABLES, type WebrtcConfig } from './outputs/webrtc/settings.js';
import { integer, oneOf, text, type Parser } from './config-parsers.js';
import { MQTT_VARIABLES, mqttSettingsProblems, type MqttTlsConfig } from './mqtt/settings.js';
import { DOOR_VARIABLES, doorProblems, type DoorConfig } from './door/settings.js';
import { PICTURES_VARIABLES, type PicturesConfig } from './outputs/pictures/settings.js';
import {
  HOME_ASSISTANT_VARIABLES,
  homeAssistantProblems,
  type HomeAssistantConfig,
} from './mqtt/ha-settings.js';
import { RECORDINGS_VARIABLES, type RecordingsConfig } from './outputs/recordings/settings.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const HLS_MODES = ['ll', 'plain'] as const;
export type HlsMode = (typeof HLS_MODES)[number];

export interface ServiceConfig
  extends DoorConfig, MqttTlsConfig, PicturesConfig, RecordingsConfig, WebrtcConfig, HomeAssistantConfig {
  readonly host: string;
  readonly port: number;
  /** Unset: the service runs its own (embedded) broker. */
  readonly mqttUrl: string | undefined;
  readonly mqttUsername: string | undefined;
  readonly mqttPassword: string | undefined;
  readonly embeddedBrokerHost: string;
  readonly embeddedBrokerPort: number;
  readonly cameraId: string;
  readonly udpListen: string;
  /** Unset: datagrams from any address are read. */
  readonly udpSources: readonly string[] | undefined;
  readonly cameraTarget: string | undefined;
  /** Cameras beside the default one; undefined: none configured. */
  readonly cameras: readonly ConfiguredCamera[] | undefined;
  /** Cameras that announce themselves on the broker are served too. */
  readonly cameraDiscovery: boolean;
  /** UDP ports handed to discovered cameras. */
  readonly udpPortRange: PortRange;
  /** The host cameras are told to send to when they listen on a port from the range or a wildcard. */
  readonly udpTargetHost: string | undefined;
  /** A discovered camera offline (and idle) this long is forgotten. */
  readonly cameraForgetMs: number;
  readonly hlsDir: string;
  readonly hlsMode: HlsMode;
  /** Undefined: from the camera's frame rate (auto). */
  readonly hlsPartMs: number | undefined;
  readonly hlsSegmentSeconds: number;
  readonly hlsListSize: number;
  /** LL-HLS egress processes beside the service (egress/); 0: the service answers every viewer. */
  readonly hlsWorkers: number;
  readonly startTimeoutMs: number;
  readonly inputSilenceMs: number;
  readonly ffmpegPath: string;
  readonly clientDir: string;
  readonly logLevel: LogLevel;
}

/** src/ and dist/ sit at the same depth, so this resolves to apps/web-client/dist from either. */
const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../../web-client/dist', import.meta.url));

interface Variable<K extends keyof ServiceConfig> {
  readonly key: K;
  readonly description: string;
  /** As it would be written in the environment; undefined: optional, no default. */
  readonly default: string | undefined;
  readonly parse: Parser<ServiceConfig[K]>;
}

const udpUrl: Parser<string> = (raw) => {
  parseUdpTarget(raw); // throws a message that names the expected form
  return raw;
};

const mqttUrl: Parser<string> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('must be a URL such as mqtt://host:1883');
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new Error('must use mqtt://, mqtts://, ws:// or wss://');
  }
  return raw;
};

const addressList: Parser<readonly string[]> = (raw) => parseAddressList(raw, ',');

const directory: Parser<string> = (raw) => (isAbsolute(raw) ? raw : resolve(raw));

type AnyVariable = { [K in keyof ServiceConfig]: Variable<K> }[keyof ServiceConfig];

/** Every variable the service reads, in the order the README documents them. */
const VARIABLES = {
  HOST: { key: 'host', description: 'address the HTTP server listens on', default: '127.0.0.1', parse: text },
  PORT: {
    key: 'port',
    description: 'HTTP port (0: any free port)',
    default: '8080',
    parse: integer(0, 65535),
  },
  MQTT_URL: {
    key: 'mqttUrl',
    description: 'broker URL, e.g. mqtt://host:1883; unset: run the embedded aedes broker',
    default: undefined,
    parse: mqttUrl,
  },
  MQTT_USERNAME: {
    key: 'mqttUsername',
    description: 'broker user name (the embedded broker requires it of every client when set)',
    default: undefined,
    parse: text,
  },
  MQTT_PASSWORD: {
    key: 'mqttPassword',
    description: 'broker password (never logged)',
    default: undefined,
    parse: text,
  },
  ...MQTT_VARIABLES,
  EMBEDDED_BROKER_HOST: {
    key: 'embeddedBrokerHost',
    description: 'address the embedded broker listens on (when MQTT_URL is unset)',
    default: '127.0.0.1',
    parse: text,
  },
  EMBEDDED_BROKER_PORT: {
    key: 'embeddedBrokerPort',
    description: 'port of the embedded broker (0: any free port)',
    default: '1883',
    parse: integer(0, 65535),
  },
  CAMERA_ID: {
    key: 'cameraId',
    description: "the default camera (topics cameras/<id>/...), served at the first contract's routes too",
    default: DEFAULT_CAMERA_ID,
    parse: (raw) => {
      const unservable = unservableCameraId(raw);
      if (unservable !== undefined) throw new Error(unservable);
      return raw;
    },
  },
  UDP_LISTEN: {
    key: 'udpListen',
    description: 'udp://host:port where the service receives the camera’s MPEG-TS (while a stream runs)',
    default: DEFAULT_UDP_TARGET,
    parse: udpUrl,
  },
  UDP_SOURCES: {
    key: 'udpSources',
    description:
      'comma-separated addresses the camera’s UDP may come from (the ingest drops datagrams from any other); unset: any',
    default: undefined,
    parse: addressList,
  },
  CAMERA_TARGET: {
    key: 'cameraTarget',
    description: 'udp://host:port sent in start commands; unset: the agent uses its own target',
    default: undefined,
    parse: udpUrl,
  },
  CAMERAS: {
    key: 'cameras',
    description:
      'more cameras, separated by spaces: id=udp://host:port, with ?sources=a+b to accept datagrams only from those addresses',
    default: undefined,
    parse: parseCameraList,
  },
  CAMERA_DISCOVERY: {
    key: 'cameraDiscovery',
    description:
      'on: a camera that publishes a status on cameras/<id>/status is served too, on a port from UDP_PORT_RANGE; off: only the configured cameras',
    default: 'on',
    parse: (raw) => oneOf(['on', 'off'] as const)(raw) === 'on',
  },
  UDP_PORT_RANGE: {
    key: 'udpPortRange',
    description: 'UDP ports for discovered cameras (first-last), on UDP_LISTEN’s address',
    default: '1240-1339',
    parse: parsePortRange,
  },
  UDP_TARGET_HOST: {
    key: 'udpTargetHost',
    description:
      'the address cameras are told to send to (start commands’ target) when they listen on a port of the range or of CAMERAS; unset: the listen address, unless it is a wildcard',
    default: undefined,
    parse: text,
  },
  CAMERA_FORGET_MS: {
    key: 'cameraForgetMs',
    description: 'a discovered camera offline and idle this long is forgotten (its port and memory freed)',
    default: '600000',
    parse: integer(1000, 86_400_000),
  },
  HLS_DIR: {
    key: 'hlsDir',
    description:
      'folder for plain HLS’s playlist and segments (only files the plain HLS output names are touched)',
    default: join(tmpdir(), 'camstream-hls'),
    parse: directory,
  },
  HLS_MODE: {
    key: 'hlsMode',
    description:
      'll: Low-Latency HLS (fMP4 parts, blocking reloads; our packager, served from memory); plain: fMP4 segments and a playlist written to HLS_DIR, for any player',
    default: 'll',
    parse: oneOf(HLS_MODES),
  },
  HLS_PART_MS: {
    key: 'hlsPartMs',
    description:
      'LL-HLS part target (PART-TARGET) in milliseconds, or auto: whole frames near 200 ms from the camera’s frame rate; players hold back three parts',
    default: 'auto',
    parse: (raw) => {
      if (raw === 'auto') return undefined;
      if (!/^\d+$/.test(raw)) throw new Error('must be auto or a whole number from 100 to 1000');
      return integer(100, 1000)(raw);
    },
  },
  HLS_SEGMENT_SECONDS: {
    key: 'hlsSegmentSeconds',
    description:
      'target segment length in whole seconds; segments are cut on keyframes, so match the camera’s GOP',
    default: '1',
    // Whole seconds: EXT-X-TARGETDURATION is an integer (RFC 8216), and below 1 s it would round to 0,
    // which the RFC forbids. Sub-second latency is the LL-HLS packager's job (parts).
    parse: integer(1, 30),
  },
  HLS_LIST_SIZE: {
    key: 'hlsListSize',
    description: 'segments listed in the live playlist',
    default: '6',
    parse: integer(1, 100),
  },
  HLS_WORKERS: {
    key: 'hlsWorkers',
    description:
      'LL-HLS egress processes beside the service (0-16) that share its HTTP port and answer LL-HLS from a copy of its memory (README "One machine, many cores"); 0: the service answers every viewer',
    default: '0',
    parse: integer(0, 16),
  },
  START_TIMEOUT_MS: {
    key: 'startTimeoutMs',
    description: 'how long a start waits for a playable playlist before answering 504',
    default: '10000',
    parse: integer(100, 600_000),
  },
  INPUT_SILENCE_MS: {
    key: 'inputSilenceMs',
    description:
      'no video from the camera for this long while live: the stream is reported silent (and ended if the camera is offline)',
    default: '2000',
    parse: integer(500, 600_000),
  },
  FFMPEG_PATH: { key: 'ffmpegPath', description: 'ffmpeg executable', default: 'ffmpeg', parse: text },
  CLIENT_DIR: {
    key: 'clientDir',
    description: 'the built web client served at / (default: apps/web-client/dist)',
    default: DEFAULT_CLIENT_DIR,
    parse: directory,
  },
  LOG_LEVEL: {
    key: 'logLevel',
    description: `log level: ${LOG_LEVELS.join(', ')}`,
    default: 'info',
    parse: oneOf(LOG_LEVELS),
  },
  ...WEBRTC_VARIABLES,
  ...DOOR_VARIABLES,
  ...PICTURES_VARIABLES,
  ...HOME_ASSISTANT_VARIABLES,
  ...RECORDINGS_VARIABLES,
} satisfies Record<string, AnyVariable>;

// Compile-time check: every ServiceConfig field is read from some variable.
type Covered = (typeof VARIABLES)[keyof typeof VARIABLES]['key'];
const _everyFieldCovered: Record<Exclude<keyof ServiceConfig, Covered>, never> = {};

export interface ConfigVariable {
  readonly name: string;
  readonly default: string | undefined;
  readonly description: string;
}

/** The environment variables, their defaults and one-line descriptions (documented in the README). */
export const SERVICE_CONFIG_VARIABLES: readonly ConfigVariable[] = Object.freeze(
  Object.entries(VARIABLES as Record<string, AnyVariable>).map(([name, variable]) =>
    Object.freeze({ name, default: variable.default, description: variable.description }),
  ),
);

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, variable] of Object.entries(VARIABLES as Record<string, AnyVariable>)) {
    // An empty value counts as unset: env files often carry `NAME=` lines.
    const given = env[name];
    const raw = given === undefined || given === '' ? variable.default : given;
    if (raw === undefined) {
      config[variable.key] = undefined;
      continue;
    }
    try {
      config[variable.key] = variable.parse(raw);
    } catch (err) {
      problems.push(`${name}=${JSON.stringify(raw)}: ${(err as Error).message}`);
    }
  }
  if (config.mqttPassword !== undefined && config.mqttUsername === undefined) {
    problems.push('MQTT_PASSWORD is set but MQTT_USERNAME is not');
  }
  problems.push(...mqttSettingsProblems(config));
  problems.push(...homeAssistantProblems(config));
  if (problems.length === 0) problems.push(...doorProblems(config as unknown as ServiceConfig));
  if (config.cameras !== undefined && problems.length === 0) {
    const defaultCamera = {
      id: config.cameraId as string,
      listen: config.udpListen as string,
      sources: undefined,
    };
    problems.push(...cameraListProblems(defaultCamera, config.cameras as readonly ConfiguredCamera[]));
  }
  if (problems.length > 0) throw createError('WEB_ERR_CONFIG', problems.map((p) => `  ${p}`).join('\n'));
  return Object.freeze(config) as unknown as ServiceConfig;
}
