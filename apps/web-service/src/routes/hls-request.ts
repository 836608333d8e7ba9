/**
 * What an /hls URL asks for, read as the fast path reads it (routes/hls-fast.ts, and the egress
 * workers: egress/mirror.ts): the camera, the name and the plain query. Undefined for
 * anything Fastify should read. Pure.
 */
import { isValidCameraId } from '@camstream/protocol';
import { parseDirectives, type Directives } from '../outputs/ll-hls/model.js';

/** Fastify's router gives up on longer parameters (maxParamLength): those stay Fastify's to answer. */
const MAX_PATH = 100;

export interface HlsUrl {
  /** `/hls/<camera>/<name>`'s camera; undefined for `/hls/<name>` (the default camera). */
  readonly cameraId: string | undefined;
  readonly name: string;
  /** The query; undefined if it is anything but plain. */
  readonly query: Query | undefined;
}

export interface Query {
  /** The delivery directives; undefined if malformed. */
  readonly directives: Directives | undefined;
  readonly token: string | undefined;
}

const NO_QUERY: Query = { directives: {}, token: undefined };

/** An URL that starts with `/hls/`, taken apart; undefined if its path is not plain. */
export function readHlsUrl(url: string): HlsUrl | undefined {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url.slice(5) : url.slice(5, queryAt);
  if (path.length > MAX_PATH || path.includes('%')) return undefined;
  const slash = path.indexOf('/');
  let cameraId: string | undefined;
  let name = path;
  if (slash !== -1) {
    cameraId = path.slice(0, slash);
    name = path.slice(slash + 1);
    if (name.includes('/') || !isValidCameraId(cameraId)) return undefined;
  }
  const query = queryAt === -1 ? NO_QUERY : readQuery(url.slice(queryAt + 1));
  return { cameraId, name, query };
}

/**
 * The delivery directives and the signed token of a plain query; undefined for anything Fastify
 * should read (escapes, `+`, a parameter of ours given twice or without a value).
 */
function readQuery(query: string): Query | undefined {
  if (query.includes('%') || query.includes('+')) return undefined;
  const values: Record<string, string> = {};
  let token: string | undefined;
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    const key = equals === -1 ? pair : pair.slice(0, equals);
    if (key === 'token') {
      if (equals === -1 || token !== undefined) return undefined;
      token = pair.slice(equals + 1);
      continue;
    }
    if (key !== '_HLS_msn' && key !== '_HLS_part' && key !== '_HLS_skip') continue;
    if (equals === -1 || key in values) return undefined;
    values[key] = pair.slice(equals + 1);
  }
  const directives = parseDirectives(values);
  return { directives: 'error' in directives ? undefined : directives, token };
}
