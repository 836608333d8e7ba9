/**
 * The door's settings (authentication, signed URLs, CORS, /metrics), parsed here and read through
 * config.ts like every other variable. Tokens are `role:token` (AUTH_TOKENS) or
 * `role:token[:cam,cam…]` lines (AUTH_TOKENS_FILE, reloaded on change by tokens.ts).
 */
import { isLoopback } from '../loopback.js';
import { isValidCameraId } from '@camstream/protocol';

export const ROLES = ['operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface TokenEntry {
  readonly role: Role;
  readonly token: string;
  /** '*': every camera. */
  readonly cameras: readonly string[] | '*';
}

export interface DoorConfig {
  /** 'none': no authentication on purpose (AUTH=none); 'tokens': tokens are required when configured. */
  readonly auth: 'none' | 'tokens';
  readonly authTokens: readonly TokenEntry[] | undefined;
  readonly authTokensFile: string | undefined;
  /** Undefined: a random secret per boot (signed URLs die with a restart). */
  readonly authSecret: string | undefined;
  readonly signedUrlTtlS: number;
  readonly metricsToken: string | undefined;
  /** Origins that may call /api from a page (CORS); undefined: none. */
  readonly corsOrigins: readonly string[] | undefined;
}

/** A token: printable ASCII without spaces, ':' or ',' (the separators), 16 to 256 characters. */
const TOKEN = /^[\x21-\x2b\x2d-\x39\x3b-\x7e]{16,256}$/;

function parseEntry(raw: string, withCameras: boolean): TokenEntry {
  const fields = raw.split(':');
  const [role, token, cameras] = fields;
  if (!(ROLES as readonly string[]).includes(role!)) {
    throw new Error(`${JSON.stringify(role)}: the role must be ${ROLES.join(' or ')}`);
  }
  if (token === undefined || !TOKEN.test(token)) {
    throw new Error(
      `a ${role} token must be 16-256 printable characters without spaces, ':' or ',' (openssl rand -hex 32 makes one)`,
    );
  }
  if (fields.length > (withCameras ? 3 : 2)) {
    throw new Error(withCameras ? 'expected role:token[:cam,cam…]' : 'expected role:token');
  }
  if (cameras === undefined) return { role: role as Role, token, cameras: '*' };
  const list = cameras.split(',').map((id) => id.trim());
  const bad = list.find((id) => !isValidCameraId(id));
  if (bad !== undefined) throw new Error(`${JSON.stringify(bad)} is not a camera id`);
  return { role: role as Role, token, cameras: list };
}

/** AUTH_TOKENS: `role:token,role:token`. */
export function parseTokenList(raw: string): readonly TokenEntry[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => parseEntry(item, false));
}

/** AUTH_TOKENS_FILE's text: one `role:token[:cam,cam…]` a line, `#` comments, blank lines. */
export function parseTokenFile(text: string): readonly TokenEntry[] {
  const entries: TokenEntry[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const content = line.replace(/#.*$/, '').trim();
    if (content === '') return;
    try {
      entries.push(parseEntry(content, true));
    } catch (err) {
      problems.push(`line ${index + 1}: ${(err as Error).message}`);
    }
  });
  if (problems.length > 0) throw new Error(problems.join('; '));
  return entries;
}

export function parseOrigins(raw: string): readonly string[] {
  return raw.split(',').map((item) => {
    const origin = item.trim();
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new Error(`${JSON.stringify(origin)} is not an origin such as https://cams.example.org`);
    }
    if (url.origin !== origin)
      throw new Error(`${JSON.stringify(origin)}: write the origin only (${url.origin})`);
    return origin;
  });
}

/** The variables, spread into config.ts's table (same shape: key, description, default, parse). */
export const DOOR_VARIABLES = {
  AUTH: {
    key: 'auth',
    description:
      'none: no authentication, on purpose (anyone who reaches the service may watch, start and stop); unset: tokens (and loopback only without any)',
    default: 'tokens',
    parse: (raw: string): DoorConfig['auth'] => {
      if (raw !== 'none' && raw !== 'tokens') throw new Error('must be none or tokens');
      return raw;
    },
  },
  AUTH_TOKENS: {
    key: 'authTokens',
    description:
      'comma-separated role:token pairs; roles: operator (start, stop, watch), viewer (watch); sent as Authorization: Bearer <token>',
    default: undefined,
    parse: parseTokenList,
  },
  AUTH_TOKENS_FILE: {
    key: 'authTokensFile',
    description:
      'a file of role:token[:cam,cam…] lines (# comments), reloaded when it changes; cameras limit the token to them',
    default: undefined,
    parse: (raw: string) => raw,
  },
  AUTH_SECRET: {
    key: 'authSecret',
    description:
      'secret (32+ characters) that signs stream URLs for players that cannot send headers; unset: random per boot',
    default: undefined,
    parse: (raw: string) => {
      if (raw.length < 32) throw new Error('must be 32 characters or more (openssl rand -hex 32)');
      return raw;
    },
  },
  SIGNED_URL_TTL_S: {
    key: 'signedUrlTtlS',
    description: 'lifetime of a signed stream URL in seconds (playlists sign their URIs afresh)',
    default: '600',
    parse: (raw: string) => {
      const value = Number(raw);
      if (!/^\d+$/.test(raw) || value < 10 || value > 86_400)
        throw new Error('must be a whole number from 10 to 86400');
      return value;
    },
  },
  METRICS_TOKEN: {
    key: 'metricsToken',
    description: 'Bearer token for GET /metrics; unset: /metrics answers loopback clients only',
    default: undefined,
    parse: (raw: string) => {
      if (!TOKEN.test(raw)) throw new Error("must be 16-256 printable characters without spaces, ':' or ','");
      return raw;
    },
  },
  CORS_ORIGINS: {
    key: 'corsOrigins',
    description:
      'comma-separated origins whose pages may call /api (CORS); unset: none (WHEP and /hls stay open to any origin)',
    default: undefined,
    parse: parseOrigins,
  },
} as const;

/** Cross-checks once every variable parsed: the refusal to listen beyond loopback without tokens. */
export function doorProblems(config: DoorConfig & { readonly host: string }): string[] {
  const tokens = config.authTokens !== undefined || config.authTokensFile !== undefined;
  if (config.auth === 'none' && tokens) {
    return ['AUTH=none contradicts AUTH_TOKENS / AUTH_TOKENS_FILE: set one or the other'];
  }
  if (config.auth === 'tokens' && !tokens && !isLoopback(config.host)) {
    return [
      `HOST=${config.host} without tokens would let anyone on the network start, stop and watch the cameras: ` +
        'set AUTH_TOKENS or AUTH_TOKENS_FILE (see docs/security.md), or AUTH=none to do this on purpose',
    ];
  }
  return [];
}
