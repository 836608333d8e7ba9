import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { AGENT_ENV_VARS, loadAgentConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

/** Any readable file stands for a PEM file: the config checks it can be read, mqtt-link parses it. */
const PEM = import.meta.filename;

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadAgentConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('AGENT_ERR_CONFIG');
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadAgentConfig', () => {
  test('defaults, with no variables set', () => {
    const { allowedTargets, ...config } = loadAgentConfig({});
    expect(allowedTargets.map((pattern) => pattern.text)).toEqual(['127.0.0.1']);
    expect(config).toEqual({
      mqtt: { url: 'mqtt://127.0.0.1:1883' },
      cameraId: 'cam1',
      source: 'test',
      udpTarget: 'udp://127.0.0.1:1234',
      video: { width: 640, height: 480, fps: 30, bitrate: 2_000_000, keyframeInterval: 30 },
      testSource: { stamp: true },
      ffmpegPath: 'ffmpeg',
      rpicamVidPath: 'rpicam-vid',
      v4l2: { device: '/dev/video0', encoder: 'auto', inputFormat: 'mjpeg' },
      stallTimeoutMs: 5000,
      logLevel: 'info',
    });
  });

  test('every variable set', () => {
    const config = loadAgentConfig({
      MQTT_URL: 'mqtts://broker.lan:8883',
      MQTT_USERNAME: 'cam2',
      MQTT_PASSWORD: 's3cret',
      CAMERA_ID: 'garage_2',
      CAMERA_SOURCE: 'v4l2',
      UDP_TARGET: 'udp://[::1]:5000',
      ALLOWED_TARGETS: '[::1]:5000, *.lan:5000-5010',
      MQTT_CA_FILE: PEM,
      MQTT_CERT_FILE: PEM,
      MQTT_KEY_FILE: PEM,
      VIDEO_WIDTH: '1280',
      VIDEO_HEIGHT: '720',
      VIDEO_FPS: '25',
      VIDEO_BITRATE: '3000000',
      KEYFRAME_INTERVAL: '50',
      TEST_SOURCE_STAMP: 'false',
      FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg',
      RPICAM_VID_PATH: '/usr/local/bin/rpicam-vid',
      V4L2_DEVICE: '/dev/video2',
      V4L2_ENCODER: 'h264_v4l2m2m',
      V4L2_INPUT_FORMAT: 'yuyv422',
      STALL_TIMEOUT_MS: '8000',
      LOG_LEVEL: 'debug',
    });
    const { allowedTargets, ...rest } = config;
    expect(allowedTargets.map((pattern) => pattern.text)).toEqual(['[::1]:5000', '*.lan:5000-5010']);
    expect(rest).toEqual({
      mqtt: {
        url: 'mqtts://broker.lan:8883',
        username: 'cam2',
        password: 's3cret',
        caFile: PEM,
        certFile: PEM,
        keyFile: PEM,
      },
      cameraId: 'garage_2',
      source: 'v4l2',
      udpTarget: 'udp://[::1]:5000',
      video: { width: 1280, height: 720, fps: 25, bitrate: 3_000_000, keyframeInterval: 50 },
      testSource: { stamp: false },
      ffmpegPath: '/opt/ffmpeg/bin/ffmpeg',
      rpicamVidPath: '/usr/local/bin/rpicam-vid',
      v4l2: { device: '/dev/video2', encoder: 'h264_v4l2m2m', inputFormat: 'yuyv422' },
      stallTimeoutMs: 8000,
      logLevel: 'debug',
    });
  });

  test('TLS files must be readable; a client certificate needs its key', () => {
    expect(problemsOf({ MQTT_CA_FILE: '/nonexistent/ca.crt', MQTT_CERT_FILE: PEM })).toEqual([
      'MQTT_CA_FILE: cannot read "/nonexistent/ca.crt"',
      'MQTT_CERT_FILE and MQTT_KEY_FILE go together: set both or neither',
    ]);
  });

  test('TEST_SOURCE_STAMP: true or false, nothing else', () => {
    expect(loadAgentConfig({ TEST_SOURCE_STAMP: 'true' }).testSource.stamp).toBe(true);
    expect(loadAgentConfig({ TEST_SOURCE_STAMP: 'false' }).testSource.stamp).toBe(false);
    expect(problemsOf({ TEST_SOURCE_STAMP: 'yes' })).toEqual([
      'TEST_SOURCE_STAMP: expected one of true, false, got "yes"',
    ]);
  });

  test('KEYFRAME_INTERVAL defaults to VIDEO_FPS: one keyframe a second', () => {
    expect(loadAgentConfig({ VIDEO_FPS: '15' }).video.keyframeInterval).toBe(15);
    expect(loadAgentConfig({ VIDEO_FPS: '15', KEYFRAME_INTERVAL: '30' }).video.keyframeInterval).toBe(30);
  });

  test('the result is frozen, nested objects too', () => {
    const config = loadAgentConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.video)).toBe(true);
    expect(Object.isFrozen(config.mqtt)).toBe(true);
    expect(Object.isFrozen(config.v4l2)).toBe(true);
  });

  test('empty and blank values count as unset (systemd `NAME=`)', () => {
    expect(loadAgentConfig({ CAMERA_ID: '', VIDEO_FPS: '  ', MQTT_USERNAME: '' })).toMatchObject({
      cameraId: 'cam1',
      video: { fps: 30 },
      mqtt: { url: 'mqtt://127.0.0.1:1883' },
    });
  });

  test('every problem is reported at once, each naming its variable', () => {
    const problems = problemsOf({
      MQTT_URL: 'http://broker',
      CAMERA_ID: 'cams/1',
      CAMERA_SOURCE: 'usb',
      UDP_TARGET: 'tcp://host:1',
      VIDEO_WIDTH: '641',
      VIDEO_FPS: 'abc',
      LOG_LEVEL: 'verbose',
    });
    expect(problems).toHaveLength(7);
    for (const name of [
      'MQTT_URL',
      'CAMERA_ID',
      'CAMERA_SOURCE',
      'UDP_TARGET',
      'VIDEO_WIDTH',
      'VIDEO_FPS',
      'LOG_LEVEL',
    ]) {
      expect(problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
    }
  });

  test('the error message lists the problems', () => {
    expect(() => loadAgentConfig({ CAMERA_SOURCE: 'usb', VIDEO_BITRATE: '2M' })).toThrow(
      /invalid configuration:\n {2}- CAMERA_SOURCE: expected one of test, rpicam, v4l2, got "usb"\n {2}- VIDEO_BITRATE/,
    );
  });

  test.each([
    ['CAMERA_SOURCE', 'USB'],
    ['V4L2_ENCODER', 'h264_omx'],
    ['V4L2_INPUT_FORMAT', 'h264'],
    ['LOG_LEVEL', 'trace'],
    ['VIDEO_WIDTH', '0'],
    ['VIDEO_WIDTH', '639'],
    ['VIDEO_HEIGHT', '8192'],
    ['VIDEO_FPS', '30.5'],
    ['VIDEO_FPS', '-1'],
    ['VIDEO_FPS', '1e2'],
    ['VIDEO_BITRATE', '2M'],
    ['KEYFRAME_INTERVAL', '0'],
    ['STALL_TIMEOUT_MS', '100'],
    ['MQTT_URL', 'broker.lan:1883'],
    ['MQTT_URL', 'mqtt://'],
    ['CAMERA_ID', 'a b'],
    ['CAMERA_ID', 'x'.repeat(65)],
    ['UDP_TARGET', 'udp://host'],
    ['UDP_TARGET', 'udp://host:70000'],
  ])('rejects %s=%s', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(`^${name}: .*${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
  });

  test('a password needs a user name', () => {
    expect(problemsOf({ MQTT_PASSWORD: 'x' })).toEqual([
      expect.stringMatching(/^MQTT_PASSWORD: .*MQTT_USERNAME/),
    ]);
  });

  test('reads only the env object it is given', () => {
    const saved = process.env.CAMERA_SOURCE;
    process.env.CAMERA_SOURCE = 'not-a-source';
    try {
      expect(loadAgentConfig({}).source).toBe('test');
    } finally {
      if (saved === undefined) delete process.env.CAMERA_SOURCE;
      else process.env.CAMERA_SOURCE = saved;
    }
  });

  test('no other source file reads process.env', async () => {
    const dir = join(import.meta.dirname, '../src');
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const readers = [];
    for (const file of files) {
      if ((await readFile(join(dir, file), 'utf8')).includes('process.env')) readers.push(file);
    }
    expect(readers).toEqual(['config.ts']);
  });
});

describe('AGENT_ENV_VARS', () => {
  test('documents every variable once, with a description and the default', () => {
    const names = AGENT_ENV_VARS.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual([
      'MQTT_URL',
      'MQTT_USERNAME',
      'MQTT_PASSWORD',
      'MQTT_CA_FILE',
      'MQTT_CERT_FILE',
      'MQTT_KEY_FILE',
      'CAMERA_ID',
      'CAMERA_SOURCE',
      'UDP_TARGET',
      'ALLOWED_TARGETS',
      'VIDEO_WIDTH',
      'VIDEO_HEIGHT',
      'VIDEO_FPS',
      'VIDEO_BITRATE',
      'KEYFRAME_INTERVAL',
      'TEST_SOURCE_STAMP',
      'FFMPEG_PATH',
      'RPICAM_VID_PATH',
      'V4L2_DEVICE',
      'V4L2_ENCODER',
      'V4L2_INPUT_FORMAT',
      'STALL_TIMEOUT_MS',
      'LOG_LEVEL',
    ]);
    for (const v of AGENT_ENV_VARS) expect(v.description.length).toBeGreaterThan(10);
    expect(AGENT_ENV_VARS.find((v) => v.name === 'CAMERA_SOURCE')?.default).toBe('test');
    expect(AGENT_ENV_VARS.find((v) => v.name === 'KEYFRAME_INTERVAL')?.default).toBe('VIDEO_FPS');
    expect(AGENT_ENV_VARS.find((v) => v.name === 'MQTT_USERNAME')?.default).toBeUndefined();
  });

  test('each documented variable with a fixed set of values is validated', () => {
    for (const name of [
      'CAMERA_SOURCE',
      'TEST_SOURCE_STAMP',
      'V4L2_ENCODER',
      'V4L2_INPUT_FORMAT',
      'LOG_LEVEL',
      'VIDEO_FPS',
      'STALL_TIMEOUT_MS',
    ]) {
      expect(problemsOf({ [name]: '???' })[0]).toMatch(new RegExp(`^${name}:`));
    }
  });
});
