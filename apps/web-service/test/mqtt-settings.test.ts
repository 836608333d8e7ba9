/**
 * The MQTT settings beyond the URL: TLS files, and the embedded broker's lock (a user name and
 * password from the configuration; none only on loopback). The broker is the real aedes on port 0.
 */
import { connectAsync } from 'mqtt';
import { describe, expect, test } from 'vitest';
import { loadServiceConfig } from '../src/config.js';
import { EmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { isLoopback } from '../src/loopback.js';
import { mqttSettingsProblems } from '../src/mqtt/settings.js';
import { useCleanup } from '../../../test/helpers/cleanup.js';
import { silentLogger } from './helpers/logger.js';

const PEM = import.meta.filename;

describe('MQTT settings', () => {
  test('TLS files are read into the config; unreadable ones and a certificate without its key are refused', () => {
    const config = loadServiceConfig({ MQTT_URL: 'mqtts://broker.lan:8883', MQTT_CA_FILE: PEM });
    expect(config).toMatchObject({ mqttCaFile: PEM, mqttCertFile: undefined, mqttKeyFile: undefined });
    expect(() => loadServiceConfig({ MQTT_CA_FILE: '/nonexistent/ca.crt', MQTT_CERT_FILE: PEM })).toThrow(
      /MQTT_CA_FILE="\/nonexistent\/ca.crt": cannot read this file[\s\S]*MQTT_CERT_FILE and MQTT_KEY_FILE go together/,
    );
  });

  test('an embedded broker on a non-loopback address needs MQTT_USERNAME and MQTT_PASSWORD', () => {
    expect(() => loadServiceConfig({ EMBEDDED_BROKER_HOST: '0.0.0.0' })).toThrow(
      /WEB_ERR_CONFIG|EMBEDDED_BROKER_HOST="0.0.0.0": the embedded broker listens on a non-loopback address: set MQTT_USERNAME and MQTT_PASSWORD/,
    );
    expect(() =>
      loadServiceConfig({ EMBEDDED_BROKER_HOST: '0.0.0.0', MQTT_USERNAME: 'web', MQTT_PASSWORD: 'pw' }),
    ).not.toThrow();
    // With an external broker the embedded one's address does not matter.
    expect(mqttSettingsProblems({ mqttUrl: 'mqtt://b:1883', embeddedBrokerHost: '0.0.0.0' })).toEqual([]);
    expect(['127.0.0.1', '127.8.9.1', '::1', '[::1]', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.2', 'broker.lan'].some(isLoopback)).toBe(false);
  });
});

describe('the embedded broker with credentials', () => {
  const cleanup = useCleanup();

  test('refuses to start on a non-loopback address without them (a clear error)', async () => {
    await expect(EmbeddedBroker.start('0.0.0.0', 0, silentLogger)).rejects.toMatchObject({
      code: 'WEB_ERR_CONFIG',
      message: /EMBEDDED_BROKER_HOST=0.0.0.0: .*set MQTT_USERNAME and MQTT_PASSWORD/,
    });
  });

  test('accepts the configured user and password, refuses others (CONNACK 4)', async () => {
    const broker = await EmbeddedBroker.start('127.0.0.1', 0, silentLogger, {
      username: 'web',
      password: 's3cret',
    });
    cleanup.add(() => broker.close());
    const options = { protocolVersion: 4 as const, reconnectPeriod: 0, connectTimeout: 3000 };
    const good = await connectAsync(broker.url, { ...options, username: 'web', password: 's3cret' });
    cleanup.add(() => good.endAsync(true));
    expect(good.connected).toBe(true);
    for (const credentials of [
      {},
      { username: 'web', password: 'wrong' },
      { username: 'x', password: 's3cret' },
    ]) {
      await expect(connectAsync(broker.url, { ...options, ...credentials })).rejects.toMatchObject({
        code: 4,
        message: /Bad username or password/,
      });
    }
  });
});
