import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadServiceConfig, SERVICE_CONFIG_VARIABLES } from '../src/config.js';
import { isServiceError } from '../src/errors.js';

describe('loadServiceConfig', () => {
  test('defaults: embedded broker, default camera and UDP port, temp HLS folder', () => {
    const config = loadServiceConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      mqttUrl: undefined,
      embeddedBrokerHost: '127.0.0.1',
      embeddedBrokerPort: 1883,
      cameraId: 'cam1',
      udpListen: 'udp://127.0.0.1:1234',
      cameraTarget: undefined,
      hlsDir: join(tmpdir(), 'camstream-hls'),
      hlsSegmentSeconds: 1,
      hlsListSize: 6,
      startTimeoutMs: 10_000,
      ffmpegPath: 'ffmpeg',
      logLevel: 'info',
    });
    expect(config.clientDir).toMatch(/apps[/\\]web-client[/\\]dist$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('reads every variable, and ports may be 0 for tests', () => {
    const config = loadServiceConfig({
      HOST: '0.0.0.0',
      AUTH: 'none',
      PORT: '0',
      MQTT_URL: 'mqtt://broker:1883',
      MQTT_USERNAME: 'web',
      MQTT_PASSWORD: 'secret',
      EMBEDDED_BROKER_PORT: '0',
      CAMERA_ID: 'garage-2',
      UDP_LISTEN: 'udp://0.0.0.0:5000',
      CAMERA_TARGET: 'udp://server.lan:5000',
      HLS_DIR: 'relative/hls',
      HLS_SEGMENT_SECONDS: '2',
      HLS_LIST_SIZE: '3',
      START_TIMEOUT_MS: '3000',
      FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg',
      CLIENT_DIR: '/srv/client',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 0,
      mqttUrl: 'mqtt://broker:1883',
      mqttUsername: 'web',
      embeddedBrokerPort: 0,
      cameraId: 'garage-2',
      cameraTarget: 'udp://server.lan:5000',
      hlsDir: resolve('relative/hls'),
      hlsSegmentSeconds: 2,
      hlsListSize: 3,
      clientDir: '/srv/client',
      logLevel: 'debug',
    });
  });

  test('empty values count as unset (env files often carry NAME= lines)', () => {
    expect(loadServiceConfig({ PORT: '', MQTT_URL: '' })).toMatchObject({ port: 8080, mqttUrl: undefined });
  });

  test('reports every problem at once in one WEB_ERR_CONFIG error', () => {
    let error: unknown;
    try {
      loadServiceConfig({
        PORT: '80a',
        MQTT_URL: 'http://broker',
        CAMERA_ID: 'cam/1',
        UDP_LISTEN: 'udp://host',
        HLS_LIST_SIZE: '0',
        LOG_LEVEL: 'loud',
        MQTT_PASSWORD: 'secret',
        EMBEDDED_BROKER_PORT: '70000',
      });
    } catch (err) {
      error = err;
    }
    expect(isServiceError(error, 'WEB_ERR_CONFIG')).toBe(true);
    const message = (error as Error).message;
    for (const name of [
      'PORT="80a"',
      'MQTT_URL="http://broker"',
      'CAMERA_ID="cam/1"',
      'UDP_LISTEN="udp://host"',
      'HLS_LIST_SIZE="0"',
      'LOG_LEVEL="loud"',
      'MQTT_PASSWORD is set but MQTT_USERNAME is not',
      'EMBEDDED_BROKER_PORT="70000"',
    ]) {
      expect(message).toContain(name);
    }
  });

  test('CAMERA_ID: an id the routes cannot serve is refused', () => {
    expect(() => loadServiceConfig({ CAMERA_ID: 'events' })).toThrow(/CAMERA_ID="events".*route name/);
  });

  test('UDP_SOURCES: a list of IP addresses, or unset for any', () => {
    expect(loadServiceConfig({}).udpSources).toBeUndefined();
    expect(loadServiceConfig({ UDP_SOURCES: ' 192.168.1.20, fd00::7 ' }).udpSources).toEqual([
      '192.168.1.20',
      'fd00::7',
    ]);
    for (const bad of ['raspberrypi.lan', '192.168.1', ',', '10.0.0.1;rm -rf']) {
      expect(() => loadServiceConfig({ UDP_SOURCES: bad }), bad).toThrow(/UDP_SOURCES=.*IP addresses/);
    }
  });

  test('sub-second segments are refused: ffmpeg would write EXT-X-TARGETDURATION:0', () => {
    expect(() => loadServiceConfig({ HLS_SEGMENT_SECONDS: '0.5' })).toThrow(
      /HLS_SEGMENT_SECONDS="0.5": must be a whole number from 1 to 30/,
    );
  });

  test('WebRTC: on with 10 viewers, any port, every interface, no ICE servers by default', () => {
    expect(loadServiceConfig({})).toMatchObject({
      webrtc: true,
      webrtcMaxViewers: 10,
      webrtcUdpPortRange: undefined,
      webrtcInterface: undefined,
      webrtcPublicIp: undefined,
      webrtcIceServers: undefined,
    });
    expect(
      loadServiceConfig({
        WEBRTC: 'off',
        WEBRTC_MAX_VIEWERS: '3',
        WEBRTC_UDP_PORTS: '40000-40009',
        WEBRTC_INTERFACE: '127.0.0.1',
        WEBRTC_PUBLIC_IP: '203.0.113.7',
        WEBRTC_ICE_SERVERS: 'stun:stun.example.org:3478, turn:me:p%40ss@turn.example.org?transport=tcp',
      }),
    ).toMatchObject({
      webrtc: false,
      webrtcMaxViewers: 3,
      webrtcUdpPortRange: { first: 40000, last: 40009 },
      webrtcInterface: '127.0.0.1',
      webrtcPublicIp: '203.0.113.7',
      webrtcIceServers: [
        { urls: 'stun:stun.example.org:3478' },
        { urls: 'turn:turn.example.org?transport=tcp', username: 'me', credential: 'p@ss' },
      ],
    });
  });

  test('WebRTC: bad values are reported together', () => {
    expect(() =>
      loadServiceConfig({
        WEBRTC: 'yes',
        WEBRTC_MAX_VIEWERS: '0',
        WEBRTC_UDP_PORTS: '5000',
        WEBRTC_INTERFACE: 'eth0',
        WEBRTC_PUBLIC_IP: '::1',
        WEBRTC_ICE_SERVERS: 'turn:turn.example.org',
      }),
    ).toThrow(
      /WEBRTC=.*\n.*WEBRTC_MAX_VIEWERS=.*\n.*WEBRTC_UDP_PORTS=.*\n.*WEBRTC_INTERFACE=.*\n.*WEBRTC_PUBLIC_IP=.*\n.*WEBRTC_ICE_SERVERS=.*needs user:password/,
    );
  });

  test('WEBRTC_UDP_PORTS holds two ports at least (werift refuses one)', () => {
    expect(() => loadServiceConfig({ WEBRTC_UDP_PORTS: '40000-40000' })).toThrow(/two ports at least/);
  });

  test('recordings: off by default, files of an hour, 7 days, 1 GiB free; bad values reported together', () => {
    expect(loadServiceConfig({})).toMatchObject({
      record: 'off',
      recordMaxSeconds: 3600,
      recordKeepDays: 7,
      recordMinFree: { bytes: 2 ** 30 },
    });
    expect(
      loadServiceConfig({
        RECORD: 'always',
        RECORD_DIR: 'rec',
        RECORD_MAX_SECONDS: '900',
        RECORD_KEEP_DAYS: '0',
        RECORD_MIN_FREE: '5%',
      }),
    ).toMatchObject({
      record: 'always',
      recordDir: resolve('rec'),
      recordMaxSeconds: 900,
      recordKeepDays: 0,
      recordMinFree: { percent: 5 },
    });
    expect(() =>
      loadServiceConfig({
        RECORD: 'sometimes',
        RECORD_MAX_SECONDS: '5',
        RECORD_KEEP_DAYS: '-1',
        RECORD_MIN_FREE: 'lots',
      }),
    ).toThrow(
      /RECORD="sometimes".*\n.*RECORD_MAX_SECONDS="5".*\n.*RECORD_KEEP_DAYS="-1".*\n.*RECORD_MIN_FREE="lots"/s,
    );
  });

  test('the variable list documents every variable with a description', () => {
    const names = SERVICE_CONFIG_VARIABLES.map((variable) => variable.name);
    expect(names).toEqual([
      'HOST',
      'PORT',
      'MQTT_URL',
      'MQTT_USERNAME',
      'MQTT_PASSWORD',
      'MQTT_CA_FILE',
      'MQTT_CERT_FILE',
      'MQTT_KEY_FILE',
      'EMBEDDED_BROKER_HOST',
      'EMBEDDED_BROKER_PORT',
      'CAMERA_ID',
      'UDP_LISTEN',
      'UDP_SOURCES',
      'CAMERA_TARGET',
      'CAMERAS',
      'CAMERA_DISCOVERY',
      'UDP_PORT_RANGE',
      'UDP_TARGET_HOST',
      'CAMERA_FORGET_MS',
      'HLS_DIR',
      'HLS_MODE',
      'HLS_PART_MS',
      'HLS_SEGMENT_SECONDS',
      'HLS_LIST_SIZE',
      'HLS_WORKERS',
      'START_TIMEOUT_MS',
      'INPUT_SILENCE_MS',
      'FFMPEG_PATH',
      'CLIENT_DIR',
      'LOG_LEVEL',
      'WEBRTC',
      'WEBRTC_MAX_VIEWERS',
      'WEBRTC_INACTIVE_MS',
      'WEBRTC_UDP_PORTS',
      'WEBRTC_INTERFACE',
      'WEBRTC_PUBLIC_IP',
      'WEBRTC_ICE_SERVERS',
      'AUTH',
      'AUTH_TOKENS',
      'AUTH_TOKENS_FILE',
      'AUTH_SECRET',
      'SIGNED_URL_TTL_S',
      'METRICS_TOKEN',
      'CORS_ORIGINS',
      'MJPEG_FPS',
      'MJPEG_QUALITY',
      'PICTURES_STALL_MS',
      'RAW_MAX_READERS',
      'HA_DISCOVERY',
      'HA_DISCOVERY_PREFIX',
      'HA_NODE_ID',
      'HA_SNAPSHOT_SECONDS',
      'HA_PUBLIC_URL',
      'RECORD',
      'RECORD_DIR',
      'RECORD_MAX_SECONDS',
      'RECORD_KEEP_DAYS',
      'RECORD_MIN_FREE',
    ]);
    for (const variable of SERVICE_CONFIG_VARIABLES) expect(variable.description.length).toBeGreaterThan(5);
  });
});

// The root README's table is checked against SERVICE_CONFIG_VARIABLES in test/readme.test.ts.
