/**
 * The Home Assistant discovery settings (HA_DISCOVERY, HA_DISCOVERY_PREFIX, HA_NODE_ID,
 * HA_SNAPSHOT_SECONDS, HA_PUBLIC_URL), kept here so that config.ts only spreads them into its table;
 * config.ts is still the one module that reads them. What they make is docs/home-assistant.md.
 */
import { integer, type Parser } from '../config-parsers.js';

export interface HomeAssistantConfig {
  /** Publish retained MQTT discovery messages so that each camera appears in Home Assistant. */
  readonly haDiscovery: boolean;
  /** Home Assistant's discovery prefix (its MQTT integration's setting; `homeassistant` by default). */
  readonly haDiscoveryPrefix: string;
  /** This service's node id: discovery topics, unique ids and its own topics (`<node>/…`). */
  readonly haNodeId: string;
  /** How often a streaming camera's snapshot is published to its camera entity's topic. */
  readonly haSnapshotSeconds: number;
  /** The web client's address as Home Assistant's users reach it: the device page links to it. */
  readonly haPublicUrl: string | undefined;
}

const onOff: Parser<boolean> = (raw) => {
  if (raw === 'true' || raw === 'on') return true;
  if (raw === 'false' || raw === 'off') return false;
  throw new Error('must be true or false (on or off)');
};

/** One MQTT topic level as Home Assistant accepts it in a discovery topic (node_id, object_id). */
export const HA_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const nodeId: Parser<string> = (raw) => {
  if (!HA_ID_PATTERN.test(raw))
    throw new Error('must be 1-64 letters, digits, _ or - (one MQTT topic level)');
  return raw;
};

const prefix: Parser<string> = (raw) => {
  // Levels as Home Assistant's own prefix setting would take them; no wildcards, no empty level.
  if (!raw.split('/').every((level) => HA_ID_PATTERN.test(level))) {
    throw new Error(
      'must be topic levels of letters, digits, _ or -, separated by / (no +, #, or empty level)',
    );
  }
  return raw;
};

const httpUrl: Parser<string> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('must be a URL such as http://cams.lan:8080');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must use http:// or https://');
  if (url.username !== '' || url.password !== '') throw new Error('must not carry a user name or password');
  return url.toString().replace(/\/$/, '');
};

/** Spread into config.ts's VARIABLES, in the order the README documents them. */
export const HOME_ASSISTANT_VARIABLES = {
  HA_DISCOVERY: {
    key: 'haDiscovery',
    description:
      'true: publish retained Home Assistant MQTT discovery messages, so each camera appears there with a switch, its state and snapshots (docs/home-assistant.md)',
    default: 'false',
    parse: onOff,
  },
  HA_DISCOVERY_PREFIX: {
    key: 'haDiscoveryPrefix',
    description: 'Home Assistant’s MQTT discovery prefix (as set in its MQTT integration)',
    default: 'homeassistant',
    parse: prefix,
  },
  HA_NODE_ID: {
    key: 'haNodeId',
    description:
      'this service’s node id in discovery topics and unique ids, and the first level of its own topics (<node>/<camera>/snapshot); give each service on one broker its own',
    default: 'camstream',
    parse: nodeId,
  },
  HA_SNAPSHOT_SECONDS: {
    key: 'haSnapshotSeconds',
    description: 'while a camera streams, its snapshot is published to its Home Assistant camera this often',
    default: '10',
    parse: integer(1, 3600),
  },
  HA_PUBLIC_URL: {
    key: 'haPublicUrl',
    description:
      'the web client’s address for Home Assistant’s users (the device page links to it); unset: no link',
    default: undefined,
    parse: httpUrl,
  },
} as const;

interface HomeAssistantSettingsView {
  readonly haDiscovery?: unknown;
  readonly haNodeId?: unknown;
  readonly haDiscoveryPrefix?: unknown;
}

/** Problems across the settings, for config.ts's one coded error. */
export function homeAssistantProblems(config: HomeAssistantSettingsView): string[] {
  const problems: string[] = [];
  // The node's own topics (`<node>/…`) must not land inside the discovery prefix, where Home
  // Assistant would read them as discovery messages.
  const { haNodeId: node, haDiscoveryPrefix: discoveryPrefix } = config;
  if (config.haDiscovery === true && typeof node === 'string' && typeof discoveryPrefix === 'string') {
    if (discoveryPrefix.split('/')[0] === node) {
      problems.push(
        `HA_NODE_ID=${JSON.stringify(node)}: must differ from the first level of HA_DISCOVERY_PREFIX (${JSON.stringify(discoveryPrefix)}), or the snapshots would be published under the discovery prefix`,
      );
    }
  }
  return problems;
}
