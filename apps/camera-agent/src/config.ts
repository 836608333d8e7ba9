/**
 * The agent's configuration: the only module that reads the environment. Defaults live in one
 * object, every problem is reported at once in one coded error, and the result is frozen.
 */
import { accessSync, constants } from 'node:fs';
import { DEFAULT_CAMERA_ID, DEFAULT_UDP_TARGET, isValidCameraId, parseUdpTarget } from '@camstream/protocol';
import { defaultAllowedTargets, parseAllowedTargets, type TargetPattern } from './allowed-targets.js';
import { ConfigError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import type { MqttBrokerSettings } from './mqtt-link.js';

export const CAMERA_SOURCES = ['test', 'rpicam', 'v4l2'] as const;
export type CameraSource = (typeof CAMERA_SOURCES)[number];

export const V4L2_ENCODERS = ['auto', 'h264_v4l2m2m', 'libx264'] as const;
export type V4l2EncoderSetting = (typeof V4L2_ENCODERS)[number];

/** What a USB camera is asked for: MJPEG reaches 30 fps at every size on UVC cameras; YUYV is raw. */
export const V4L2_INPUT_FORMATS = ['mjpeg', 'yuyv422'] as const;
export type V4l2InputFormat = (typeof V4L2_INPUT_FORMATS)[number];

export interface VideoSettings {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Bits per second. */
  readonly bitrate: number;
  /** Frames between keyframes. */
  readonly keyframeInterval: number;
}

export interface AgentConfig {
  readonly mqtt: MqttBrokerSettings;
  readonly cameraId: string;
  readonly source: CameraSource;
  /** Where the stream goes when a start command names no target. */
  readonly udpTarget: string;
  /** Where a start command may send the stream (ALLOWED_TARGETS; default: UDP_TARGET's host). */
  readonly allowedTargets: readonly TargetPattern[];
  readonly video: VideoSettings;
  readonly testSource: {
    /** Draw the capture time on every frame (the stamp in @camstream/protocol), for latency readings. */
    readonly stamp: boolean;
  };
  readonly ffmpegPath: string;
  readonly rpicamVidPath: string;
  readonly v4l2: {
    readonly device: string;
    readonly encoder: V4l2EncoderSetting;
    readonly inputFormat: V4l2InputFormat;
  };
  readonly stallTimeoutMs: number;
  readonly logLevel: LogLevel;
}

/** Every default in one place (KEYFRAME_INTERVAL defaults to VIDEO_FPS: one keyframe a second). */
export const AGENT_CONFIG_DEFAULTS = Object.freeze({
  MQTT_URL: 'mqtt://127.0.0.1:1883',
  CAMERA_ID: DEFAULT_CAMERA_ID,
  CAMERA_SOURCE: 'test',
  UDP_TARGET: DEFAULT_UDP_TARGET,
  VIDEO_WIDTH: '640',
  VIDEO_HEIGHT: '480',
  VIDEO_FPS: '30',
  VIDEO_BITRATE: '2000000',
  TEST_SOURCE_STAMP: 'true',
  FFMPEG_PATH: 'ffmpeg',
  RPICAM_VID_PATH: 'rpicam-vid',
  V4L2_DEVICE: '/dev/video0',
  V4L2_ENCODER: 'auto',
  V4L2_INPUT_FORMAT: 'mjpeg',
  STALL_TIMEOUT_MS: '5000',
  LOG_LEVEL: 'info',
} satisfies Record<string, string>);

export interface EnvVarDoc {
  readonly name: string;
  /** Shown as the default in the README; undefined when the variable is optional with no default. */
  readonly default?: string;
  readonly description: string;
}

/** Every variable the agent reads, with a one-line description (the README's table comes from it). */
export const AGENT_ENV_VARS: readonly EnvVarDoc[] = Object.freeze(
  (
    [
      ['MQTT_URL', 'Broker URL: mqtt://, mqtts://, ws:// or wss://host:port.'],
      ['MQTT_USERNAME', 'Broker user name (optional).'],
      ['MQTT_PASSWORD', 'Broker password (optional; needs MQTT_USERNAME).'],
      ['MQTT_CA_FILE', 'PEM file of the CA that signed the broker’s certificate (mqtts://).'],
      ['MQTT_CERT_FILE', 'PEM client certificate, for brokers that ask for one (needs MQTT_KEY_FILE).'],
      ['MQTT_KEY_FILE', 'PEM private key of MQTT_CERT_FILE.'],
      ['CAMERA_ID', 'Camera id, one topic level: cameras/<id>/control|status|events.'],
      ['CAMERA_SOURCE', 'Capture source: test (ffmpeg test pattern), rpicam (Camera Module), v4l2 (USB).'],
      ['UDP_TARGET', 'Where the MPEG-TS goes when a start command has no target (udp://host:port).'],
      [
        'ALLOWED_TARGETS',
        'Where a start command may send the stream: host, host:port, host:low-high, *.domain, CIDR, comma-separated; default: UDP_TARGET’s host. Others are refused.',
      ],
      ['VIDEO_WIDTH', 'Frame width in pixels (even).'],
      ['VIDEO_HEIGHT', 'Frame height in pixels (even).'],
      ['VIDEO_FPS', 'Frames per second.'],
      ['VIDEO_BITRATE', 'H.264 bitrate in bits per second.'],
      ['KEYFRAME_INTERVAL', 'Frames between keyframes; defaults to VIDEO_FPS (one a second).'],
      ['TEST_SOURCE_STAMP', 'true or false: the test source stamps each frame with its capture time.'],
      ['FFMPEG_PATH', 'ffmpeg executable (test and v4l2 sources).'],
      ['RPICAM_VID_PATH', 'rpicam-vid executable (rpicam source).'],
      ['V4L2_DEVICE', 'V4L2 capture device (v4l2 source).'],
      ['V4L2_ENCODER', 'auto, h264_v4l2m2m (hardware, Pi 4/Zero 2 W) or libx264 (software).'],
      ['V4L2_INPUT_FORMAT', 'Pixel format asked of the USB camera: mjpeg or yuyv422.'],
      ['STALL_TIMEOUT_MS', 'No data from the encoder for this long counts as a failure (restart).'],
      ['LOG_LEVEL', 'debug, info, warn or error.'],
    ] as const
  ).map(([name, description]) => {
    const defaults: Record<string, string> = AGENT_CONFIG_DEFAULTS;
    const derived: Record<string, string> = {
      KEYFRAME_INTERVAL: 'VIDEO_FPS',
      ALLOWED_TARGETS: 'UDP_TARGET’s host',
    };
    const fallback = derived[name] ?? defaults[name];
    return Object.freeze(
      fallback === undefined ? { name, description } : { name, default: fallback, description },
    );
  }),
);

const MQTT_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

/** Reads the environment; throws a ConfigError (AGENT_ERR_CONFIG) listing every problem. */
export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const problems: string[] = [];
  // Empty values count as unset: systemd's `NAME=` in an EnvironmentFile means "no value".
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const text = (name: keyof typeof AGENT_CONFIG_DEFAULTS) => raw(name) ?? AGENT_CONFIG_DEFAULTS[name];
  const oneOf = <T extends string>(name: keyof typeof AGENT_CONFIG_DEFAULTS, allowed: readonly T[]): T => {
    const value = text(name);
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push(`${name}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    return allowed[0]!;
  };
  const integer = (name: string, value: string, min: number, max: number, even = false): number => {
    const number = /^\d+$/.test(value) ? Number(value) : NaN;
    if (Number.isSafeInteger(number) && number >= min && number <= max && (!even || number % 2 === 0)) {
      return number;
    }
    const what = even ? 'an even integer' : 'an integer';
    problems.push(`${name}: expected ${what} from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return min;
  };
  const int = (name: keyof typeof AGENT_CONFIG_DEFAULTS, min: number, max: number, even = false) =>
    integer(name, text(name), min, max, even);

  const url = text('MQTT_URL');
  try {
    const parsed = new URL(url);
    if (!MQTT_PROTOCOLS.includes(parsed.protocol) || parsed.hostname === '') throw new Error('bad');
  } catch {
    problems.push(
      `MQTT_URL: expected ${MQTT_PROTOCOLS.map((p) => `${p}//host:port`).join(', ')}, got ${JSON.stringify(url)}`,
    );
  }
  const username = raw('MQTT_USERNAME');
  const password = raw('MQTT_PASSWORD');
  if (password !== undefined && username === undefined) {
    problems.push(
      'MQTT_PASSWORD: is set but MQTT_USERNAME is not (MQTT 3.1.1 needs a user name with a password)',
    );
  }

  const files: { caFile?: string; certFile?: string; keyFile?: string } = {};
  for (const [name, key] of [
    ['MQTT_CA_FILE', 'caFile'],
    ['MQTT_CERT_FILE', 'certFile'],
    ['MQTT_KEY_FILE', 'keyFile'],
  ] as const) {
    const path = raw(name);
    if (path === undefined) continue;
    try {
      accessSync(path, constants.R_OK);
      files[key] = path;
    } catch {
      problems.push(`${name}: cannot read ${JSON.stringify(path)}`);
    }
  }
  if ((raw('MQTT_CERT_FILE') === undefined) !== (raw('MQTT_KEY_FILE') === undefined)) {
    problems.push('MQTT_CERT_FILE and MQTT_KEY_FILE go together: set both or neither');
  }

  const cameraId = text('CAMERA_ID');
  if (!isValidCameraId(cameraId)) {
    problems.push(`CAMERA_ID: use 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(cameraId)}`);
  }
  const source = oneOf('CAMERA_SOURCE', CAMERA_SOURCES);
  const udpTarget = text('UDP_TARGET');
  let allowedTargets: readonly TargetPattern[] = [];
  try {
    const allowedRaw = raw('ALLOWED_TARGETS') ?? defaultAllowedTargets(parseUdpTarget(udpTarget));
    try {
      allowedTargets = parseAllowedTargets(allowedRaw);
    } catch (err) {
      problems.push(`ALLOWED_TARGETS: ${(err as Error).message}`);
    }
  } catch (err) {
    problems.push(`UDP_TARGET: ${(err as Error).message}`);
  }

  const width = int('VIDEO_WIDTH', 16, 4096, true);
  const height = int('VIDEO_HEIGHT', 16, 4096, true);
  const fps = int('VIDEO_FPS', 1, 120);
  const bitrate = int('VIDEO_BITRATE', 50_000, 100_000_000);
  const keyframeRaw = raw('KEYFRAME_INTERVAL');
  const keyframeInterval =
    keyframeRaw === undefined ? fps : integer('KEYFRAME_INTERVAL', keyframeRaw, 1, 1200);

  const stamp = oneOf('TEST_SOURCE_STAMP', ['true', 'false']) === 'true';

  const v4l2 = {
    device: text('V4L2_DEVICE'),
    encoder: oneOf('V4L2_ENCODER', V4L2_ENCODERS),
    inputFormat: oneOf('V4L2_INPUT_FORMAT', V4L2_INPUT_FORMATS),
  };
  const stallTimeoutMs = int('STALL_TIMEOUT_MS', 500, 600_000);
  const logLevel = oneOf('LOG_LEVEL', LOG_LEVELS);

  if (problems.length > 0) throw new ConfigError(problems);

  return deepFreeze({
    mqtt: {
      url,
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password }),
      ...files,
    },
    cameraId,
    source,
    udpTarget,
    allowedTargets,
    video: { width, height, fps, bitrate, keyframeInterval },
    testSource: { stamp },
    ffmpegPath: text('FFMPEG_PATH'),
    rpicamVidPath: text('RPICAM_VID_PATH'),
    v4l2,
    stallTimeoutMs,
    logLevel,
  });
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child as object);
  }
  return Object.freeze(value);
}
