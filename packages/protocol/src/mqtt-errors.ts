/**
 * MQTT and TLS connection failures in words. mqtt.js hands on what Node's net/tls and the broker's
 * CONNACK say (`CERT_HAS_EXPIRED`, `Connection refused: Not authorized`, `EPROTO … wrong version
 * number`); the agent and the service both log this one sentence instead, naming the setting to
 * check. It never repeats a password: it reads only the error's code and message (and, for a
 * certificate issued for another name, the host asked for and the certificate's names).
 */

export interface MqttErrorDescription {
  /** Stable: tells failures apart without parsing the sentence. */
  readonly kind:
    | 'tls-untrusted'
    | 'tls-expired'
    | 'tls-hostname'
    | 'tls-client-cert'
    | 'tls-not-tls'
    | 'credentials'
    | 'not-authorized'
    | 'refused'
    | 'unreachable'
    | 'other';
  /** One sentence for the log. */
  readonly message: string;
  /** Retrying with the same settings cannot succeed. */
  readonly permanent: boolean;
}

const NOT_AUTHORIZED =
  'the broker says this client is not authorized: a wrong user name or password (MQTT_USERNAME, MQTT_PASSWORD), or a user its configuration does not let in';

/** CONNACK return codes of MQTT 3.1.1 (and the MQTT 5 reason codes that mean the same). */
const CONNACK: Record<number, [MqttErrorDescription['kind'], string]> = {
  1: ['refused', 'the broker does not accept MQTT 3.1.1'],
  2: ['refused', 'the broker rejected the client id'],
  4: ['credentials', 'the broker refused the user name or password (MQTT_USERNAME, MQTT_PASSWORD)'],
  // Mosquitto answers a wrong password with this code too, not with 4.
  5: ['not-authorized', NOT_AUTHORIZED],
  134: ['credentials', 'the broker refused the user name or password (MQTT_USERNAME, MQTT_PASSWORD)'],
  135: ['not-authorized', NOT_AUTHORIZED],
};

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** Where the connection was when the error came: what the error object alone does not tell. */
export interface MqttConnectionState {
  /** The connection is TLS (mqtts://). */
  readonly tls: boolean;
  /** With TLS: the handshake had completed and the broker's certificate was accepted. */
  readonly secured: boolean;
}

/**
 * The state of mqtt.js's current stream (`client.stream`), read without Node's types: a TLSSocket is
 * `encrypted`, and `authorized` once its handshake completed with a certificate we trust (mqtt.js
 * refuses any other). Undefined for anything else.
 */
export function mqttConnectionState(stream: unknown): MqttConnectionState | undefined {
  if (typeof stream !== 'object' || stream === null) return undefined;
  const { encrypted, authorized } = stream as { encrypted?: unknown; authorized?: unknown };
  if (encrypted !== true) return { tls: false, secured: false };
  return { tls: true, secured: authorized === true };
}

/**
 * Describes a connection error from mqtt.js; `where` names the broker (no credentials in it);
 * `state` (mqttConnectionState of the client's stream) tells a reset during the TLS handshake.
 */
export function describeMqttError(
  err: unknown,
  where = 'the MQTT broker',
  state?: MqttConnectionState,
): MqttErrorDescription {
  const error = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    message?: unknown;
    host?: unknown;
    cert?: { subjectaltname?: unknown } | null;
  };
  const code = error.code;
  const text = typeof error.message === 'string' ? error.message : String(err);
  const say = (kind: MqttErrorDescription['kind'], message: string, permanent: boolean) => ({
    kind,
    message: `${where}: ${message} (${typeof code === 'string' ? `${code}: ` : ''}${text})`,
    permanent,
  });

  if (typeof code === 'number' && /^Connection refused/i.test(text)) {
    const known = CONNACK[code];
    if (known) return say(known[0], known[1], true);
    return say('refused', `the broker refused the connection (return code ${code})`, code !== 3);
  }
  if (typeof code === 'string') {
    if (UNTRUSTED.has(code)) {
      return say(
        'tls-untrusted',
        'the broker’s TLS certificate is not signed by a trusted CA: set MQTT_CA_FILE to the CA that signed it',
        true,
      );
    }
    if (code === 'CERT_HAS_EXPIRED')
      return say('tls-expired', 'the broker’s TLS certificate has expired: renew it', true);
    if (code === 'CERT_NOT_YET_VALID') {
      return say('tls-expired', 'the broker’s TLS certificate is not valid yet (check the clocks)', true);
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      // Node's error carries the name we asked for and the certificate: say both (neither is secret).
      const names = typeof error.cert?.subjectaltname === 'string' ? error.cert.subjectaltname : undefined;
      const host = typeof error.host === 'string' ? error.host : undefined;
      const issued = names ? ` (it is for ${names}${host ? `, not ${host}` : ''})` : '';
      return say(
        'tls-hostname',
        `the broker’s TLS certificate is not for this host name${issued}: use a name it was issued for in MQTT_URL, or make it for this one (infra/mosquitto/make-certs.sh)`,
        true,
      );
    }
  }
  // Alerts the broker sent during the handshake about our client certificate.
  if (/alert certificate expired/i.test(text)) {
    return say(
      'tls-client-cert',
      'the broker refused our client certificate: it has expired (MQTT_CERT_FILE)',
      true,
    );
  }
  if (/alert (certificate required|handshake failure)/i.test(text)) {
    return say(
      'tls-client-cert',
      'the broker wants a client certificate it trusts: set MQTT_CERT_FILE and MQTT_KEY_FILE',
      true,
    );
  }
  if (/alert (unknown ca|bad certificate|certificate unknown|certificate revoked)/i.test(text)) {
    return say('tls-client-cert', 'the broker refused our client certificate (MQTT_CERT_FILE)', true);
  }
  if (/wrong version number|packet length too long|unknown protocol/i.test(text)) {
    return say(
      'tls-not-tls',
      'this port does not speak TLS: use mqtt:// for a plain listener, or the broker’s TLS port (8883) for mqtts://',
      true,
    );
  }
  if (code === 'ECONNREFUSED') return say('unreachable', 'nothing listens at this address', false);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return say('unreachable', 'the host name does not resolve', false);
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return say('unreachable', 'the broker cannot be reached', false);
  }
  if (code === 'ECONNRESET' && state?.tls && !state.secured) {
    // A TLS listener answers a handshake it refuses with an alert (above); a plain MQTT listener
    // reads the ClientHello as a malformed packet and drops the connection.
    return say(
      'tls-not-tls',
      'the broker closed the connection during the TLS handshake: this port does not speak TLS (use the broker’s TLS port, 8883, for mqtts://, or mqtt:// for a plain listener)',
      true,
    );
  }
  if (code === 'ECONNRESET' && state?.tls) {
    return say('unreachable', 'the broker reset the connection', false);
  }
  if (code === 'ECONNRESET') {
    return say(
      'unreachable',
      'the broker closed the connection (a plain mqtt:// client on a TLS port?)',
      false,
    );
  }
  return say('other', 'the connection failed', false);
}
