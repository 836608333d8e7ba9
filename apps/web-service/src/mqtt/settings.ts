/**
 * The MQTT settings beyond the URL and credentials (config.ts reads them through MQTT_VARIABLES):
 * TLS files for mqtts://, and the rule that an embedded broker reachable from other hosts needs
 * a user name and password.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { isLoopback } from '../loopback.js';

/** The TLS settings as ServiceConfig holds them (MQTT_CA_FILE, MQTT_CERT_FILE, MQTT_KEY_FILE). */
export interface MqttTlsConfig {
  readonly mqttCaFile: string | undefined;
  readonly mqttCertFile: string | undefined;
  readonly mqttKeyFile: string | undefined;
}

/** PEM files read from disk by the connection. */
export interface MqttTlsFiles {
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

const readable = (raw: string): string => {
  try {
    accessSync(raw, constants.R_OK);
  } catch {
    throw new Error('cannot read this file');
  }
  return raw;
};

/** Spread into config.ts's VARIABLES table. */
export const MQTT_VARIABLES = {
  MQTT_CA_FILE: {
    key: 'mqttCaFile',
    description: 'PEM file of the CA that signed the broker’s certificate (mqtts://); unset: the system CAs',
    default: undefined,
    parse: readable,
  },
  MQTT_CERT_FILE: {
    key: 'mqttCertFile',
    description: 'PEM client certificate, for a broker that asks for one (with MQTT_KEY_FILE)',
    default: undefined,
    parse: readable,
  },
  MQTT_KEY_FILE: {
    key: 'mqttKeyFile',
    description: 'PEM private key of MQTT_CERT_FILE',
    default: undefined,
    parse: readable,
  },
} as const;

export const EMBEDDED_BROKER_NEEDS_CREDENTIALS =
  'the embedded broker listens on a non-loopback address: set MQTT_USERNAME and MQTT_PASSWORD (every client must then give them), or EMBEDDED_BROKER_HOST=127.0.0.1';

interface MqttSettingsView {
  readonly mqttUrl?: unknown;
  readonly mqttUsername?: unknown;
  readonly mqttPassword?: unknown;
  readonly mqttCertFile?: unknown;
  readonly mqttKeyFile?: unknown;
  readonly embeddedBrokerHost?: unknown;
}

/** Problems across MQTT settings, for config.ts's one coded error. */
export function mqttSettingsProblems(config: MqttSettingsView): string[] {
  const problems: string[] = [];
  if ((config.mqttCertFile === undefined) !== (config.mqttKeyFile === undefined)) {
    problems.push('MQTT_CERT_FILE and MQTT_KEY_FILE go together: set both or neither');
  }
  const embedded = config.mqttUrl === undefined;
  const host = config.embeddedBrokerHost;
  const credentials = config.mqttUsername !== undefined && config.mqttPassword !== undefined;
  if (embedded && typeof host === 'string' && !isLoopback(host) && !credentials) {
    problems.push(`EMBEDDED_BROKER_HOST=${JSON.stringify(host)}: ${EMBEDDED_BROKER_NEEDS_CREDENTIALS}`);
  }
  return problems;
}

/** The TLS options for mqtt.js (files read now: a missing file fails at start, not mid-run). */
export function tlsOptions(files: MqttTlsFiles): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  return {
    ...(files.caFile !== undefined && { ca: readFileSync(files.caFile) }),
    ...(files.certFile !== undefined && { cert: readFileSync(files.certFile) }),
    ...(files.keyFile !== undefined && { key: readFileSync(files.keyFile) }),
  };
}
