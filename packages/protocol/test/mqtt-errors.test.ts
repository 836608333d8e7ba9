/**
 * describeMqttError: the errors mqtt.js hands on, as Node's tls and the broker make them, in words
 * that name the setting to check. (test/mqtt-tls.test.ts causes each of them with a real Mosquitto.)
 */
import { describe, expect, test } from 'vitest';
import { describeMqttError, mqttConnectionState } from '../src/mqtt-errors.js';

const error = (message: string, code?: string | number) => Object.assign(new Error(message), { code });

describe('describeMqttError', () => {
  test.each([
    [
      error('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'),
      'tls-untrusted',
      /MQTT_CA_FILE/,
      true,
    ],
    [
      error('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'),
      'tls-untrusted',
      /MQTT_CA_FILE/,
      true,
    ],
    [error('certificate has expired', 'CERT_HAS_EXPIRED'), 'tls-expired', /has expired: renew it/, true],
    [
      error("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'),
      'tls-hostname',
      /MQTT_URL/,
      true,
    ],
    [
      error('Connection refused: Bad username or password', 4),
      'credentials',
      /MQTT_USERNAME, MQTT_PASSWORD/,
      true,
    ],
    // Mosquitto's answer to a wrong password.
    [
      error('Connection refused: Not authorized', 5),
      'not-authorized',
      /wrong user name or password \(MQTT_USERNAME, MQTT_PASSWORD\)/,
      true,
    ],
    [error('Connection refused: Server unavailable', 3), 'refused', /return code 3/, false],
    [
      error('write EPROTO 40:error:0A00010B:SSL routines:ssl3_get_record:wrong version number', 'EPROTO'),
      'tls-not-tls',
      /does not speak TLS/,
      true,
    ],
    [error('connect ECONNREFUSED 127.0.0.1:8883', 'ECONNREFUSED'), 'unreachable', /nothing listens/, false],
  ] as const)('%s', (err, kind, says, permanent) => {
    const described = describeMqttError(err, 'the MQTT broker at broker.lan:8883');
    expect(described).toMatchObject({ kind, permanent });
    expect(described.message).toMatch(says);
    expect(described.message.startsWith('the MQTT broker at broker.lan:8883: ')).toBe(true);
  });

  test('a certificate for another name: the names it has and the one asked for', () => {
    const err = Object.assign(
      error(
        "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
        'ERR_TLS_CERT_ALTNAME_INVALID',
      ),
      { host: '127.0.0.1', cert: { subjectaltname: 'DNS:localhost' } },
    );
    const described = describeMqttError(err, 'the MQTT broker at 127.0.0.1:8883');
    expect(described).toMatchObject({ kind: 'tls-hostname', permanent: true });
    expect(described.message).toMatch(
      /not for this host name \(it is for DNS:localhost, not 127\.0\.0\.1\): use a name it was issued for in MQTT_URL/,
    );
  });

  test('a reset: during the TLS handshake it is a plain port (permanent); otherwise retried', () => {
    const reset = error('read ECONNRESET', 'ECONNRESET');
    const inHandshake = describeMqttError(reset, undefined, { tls: true, secured: false });
    expect(inHandshake).toMatchObject({ kind: 'tls-not-tls', permanent: true });
    expect(inHandshake.message).toMatch(/during the TLS handshake: this port does not speak TLS/);
    expect(describeMqttError(reset, undefined, { tls: true, secured: true })).toMatchObject({
      kind: 'unreachable',
      permanent: false,
    });
    const plain = describeMqttError(reset, undefined, { tls: false, secured: false });
    expect(plain).toMatchObject({ kind: 'unreachable', permanent: false });
    expect(plain.message).toMatch(/a plain mqtt:\/\/ client on a TLS port\?/);
    expect(describeMqttError(reset)).toMatchObject({ kind: 'unreachable', permanent: false });
  });

  test('mqttConnectionState reads a TLS socket’s handshake by its public fields', () => {
    expect(mqttConnectionState({ encrypted: true, authorized: false })).toEqual({
      tls: true,
      secured: false,
    });
    expect(mqttConnectionState({ encrypted: true, authorized: true })).toEqual({ tls: true, secured: true });
    expect(mqttConnectionState({ readable: true })).toEqual({ tls: false, secured: false });
    expect(mqttConnectionState(undefined)).toBeUndefined();
  });

  test('never repeats what the error does not say (no password from the URL)', () => {
    const described = describeMqttError(error('connect ECONNREFUSED', 'ECONNREFUSED'));
    expect(described.message).toBe(
      'the MQTT broker: nothing listens at this address (ECONNREFUSED: connect ECONNREFUSED)',
    );
  });
});
