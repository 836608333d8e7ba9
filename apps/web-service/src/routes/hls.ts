/**
 * /hls/<id>/*: a camera's playlist and its segments, for any player; /hls/* the default camera's (the
 * first contract). Plain HLS: from the camera's folder, only names the plain HLS output makes
 * (names.ts), and only as the regular files it writes; LL-HLS: from the camera's packager's memory. Anything
 * else, traversal included, is a 404 before the disk (or a packager) is touched.
 */
import { lstat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join, relative } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isValidCameraId } from '@camstream/protocol';
import { createError } from '../errors.js';
import { blockingTarget, parseDirectives } from '../outputs/ll-hls/model.js';
import type { Abandonable, LlHlsPackager } from '../outputs/ll-hls/packager.js';
import { isLowLatencyName, isServableName, PLAYLIST_NAME } from '../outputs/names.js';

/** Segment names are never reused (a new stream id per remuxer run), so they can be cached for good. */
export const SEGMENT_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/**
 * The live playlist changes with every part: a player revalidates each time (max-age=0), a shared cache
 * (an edge, a CDN) may answer it for 1 s, so its viewers cost the origin one request a second.
 */
export const PLAYLIST_CACHE_CONTROL = 'public, max-age=0, s-maxage=1';
/** Answers to requests that fail (404, 503 after a hold, 401): never kept, by a player or an edge. */
export const ERROR_CACHE_CONTROL = 'no-store';

/**
 * Cache-Control of an /hls answer; infra/edge/README.md says how an edge uses it. A blocking reload's
 * answer (`_HLS_msn`, `_HLS_part`) holds what it waited for, so it stays right for its URL while that
 * part is listed: three target durations (not longer: a restarted service numbers segments from 0
 * again). Asked with an Authorization header, an answer is the player's alone (`private`): a shared
 * cache keyed on the URL would hand it to a stranger. A signed URL's ?token= is in every cache key.
 */
export function hlsCacheControl(
  answer: 'media' | 'playlist' | 'blocking-playlist',
  { targetDuration = 1, authorized = false }: { targetDuration?: number; authorized?: boolean } = {},
): string {
  if (answer === 'media') return authorized ? 'private, max-age=31536000, immutable' : SEGMENT_CACHE_CONTROL;
  if (answer === 'playlist') return authorized ? 'private, max-age=0' : PLAYLIST_CACHE_CONTROL;
  return `${authorized ? 'private' : 'public'}, max-age=${3 * targetDuration}`;
}

export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

/** What /hls needs of a camera (a Camera). */
export interface HlsSource {
  /** HLS_MODE=ll: the stream is served from this packager's memory. */
  readonly packager: LlHlsPackager | undefined;
  /** HLS_MODE=plain: the folder its files are in (HLS_DIR or below). */
  readonly hlsDir: string;
}

export interface HlsRouteOptions {
  readonly hlsDir: string;
  /** The cameras (a CameraRegistry). */
  readonly registry: { readonly default: HlsSource; get(cameraId: string): HlsSource | undefined };
}

/** `<id>/<name>`: that camera's; `<name>`: the default camera's. An unknown id is a 404. */
function cameraOf(registry: HlsRouteOptions['registry'], path: string): { camera: HlsSource; name: string } {
  const slash = path.indexOf('/');
  if (slash === -1) return { camera: registry.default, name: path };
  const cameraId = path.slice(0, slash);
  const camera = isValidCameraId(cameraId) ? registry.get(cameraId) : undefined;
  // A 404 like any other name under /hls (a file space: one code for "nothing there").
  if (!camera)
    throw createError('WEB_ERR_NOT_FOUND', `/hls/${path}: no camera ${JSON.stringify(cameraId)} here`);
  return { camera, name: path.slice(slash + 1) };
}

export async function hlsRoutes(app: FastifyInstance, { hlsDir, registry }: HlsRouteOptions): Promise<void> {
  // Only for reply.sendFile below (serve: false): the route decides what may be served.
  await app.register(fastifyStatic, {
    root: hlsDir,
    serve: false,
    dotfiles: 'deny',
    index: false,
    cacheControl: false,
    setHeaders: setHlsHeaders,
  });

  // Players on other pages and origins (hls.js elsewhere, a test page) may fetch the stream.
  // Any answer that does not say otherwise below (an error) is not to be cached.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('access-control-allow-origin', '*').header('cache-control', ERROR_CACHE_CONTROL);
    done();
  });

  app.options('/hls/*', { logLevel: 'warn' }, async (_request, reply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
      .header('access-control-allow-headers', 'Range')
      .header('access-control-max-age', '86400')
      .send(),
  );

  app.get('/hls/*', { logLevel: 'warn' }, async (request, reply) => {
    const { camera, name } = cameraOf(registry, (request.params as { '*': string })['*']);
    if (camera.packager) {
      return serveLowLatency(camera.packager, name, request.query as Record<string, unknown>, reply);
    }
    if (!isServableName(name)) throw createError('WEB_ERR_NOT_FOUND', request.url);
    const path = join(camera.hlsDir, name);
    if (!(await isSegmenterFile(path))) throw createError('WEB_ERR_NOT_FOUND', request.url);
    return reply.sendFile(relative(hlsDir, path));
  });
}

/**
 * The plain HLS output writes each file itself and renames it into place: a regular file with one link. A symlink
 * or a hard link with one of our names (put there by someone else) may lead outside HLS_DIR, and
 * sendFile would follow it. lstat reads HLS_DIR's entry, never what it points to.
 */
async function isSegmenterFile(path: string): Promise<boolean> {
  try {
    const stats = await lstat(path);
    return stats.isFile() && stats.nlink === 1;
  } catch {
    return false;
  }
}

/**
 * Abandoned when the client goes away before the answer (a player that gave up on a blocking
 * request). Watched only by requests that wait, and without an AbortController: most requests
 * answer at once, and a thousand viewers make thousands a second.
 */
class ClientGone implements Abandonable {
  readonly #response: ServerResponse;

  constructor(response: ServerResponse) {
    this.#response = response;
  }

  get aborted(): boolean {
    return false; // a request is answered even if its client is already gone: Node drops the bytes
  }

  watch(listener: () => void): () => void {
    const response = this.#response;
    const onClose = () => {
      if (!response.writableFinished) listener();
    };
    response.once('close', onClose);
    return () => response.off('close', onClose);
  }
}

/**
 * LL-HLS (RFC 8216bis §6.2.5-6.2.6): the playlist with its delivery directives, held until the
 * requested part exists; parts, segments and init segments from memory; the preload-hinted part held
 * until it is made. Holds end after three target durations (503 for a playlist, 404 for a part).
 */
async function serveLowLatency(
  packager: LlHlsPackager,
  name: string,
  query: Record<string, unknown>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const holdMs = packager.holdMs;
  if (name === PLAYLIST_NAME) {
    const directives = parseDirectives(query);
    if ('error' in directives) throw createError('WEB_ERR_BAD_REQUEST', directives.error);
    if (directives.msn !== undefined) {
      const wanted = blockingTarget(directives.msn, directives.part);
      const result = await packager.waitForPlaylist(
        directives.msn,
        directives.part,
        new ClientGone(reply.raw),
        holdMs,
      );
      if (!result.ok) {
        if (result.reason === 'too-far') {
          const model = packager.model();
          const edge = model?.open ?? model?.segments.at(-1);
          const at = edge ? `the newest is segment ${edge.msn}` : 'no segment yet';
          throw createError('WEB_ERR_HLS_TOO_FAR_AHEAD', wanted, at);
        }
        if (result.reason === 'timeout') throw createError('WEB_ERR_HLS_BLOCKING_TIMEOUT', wanted, holdMs);
        if (result.reason === 'aborted') return reply;
      }
    }
    const text = packager.playlist({ skip: directives.skip === true });
    if (text === undefined) throw createError('WEB_ERR_NOT_FOUND', `/hls/${name}: no stream is live`);
    const blocking = directives.msn !== undefined ? 'blocking-playlist' : 'playlist';
    return reply
      .header('content-type', PLAYLIST_CONTENT_TYPE)
      .header('cache-control', hlsCacheControl(blocking, cacheContext(packager, reply)))
      .send(text);
  }
  if (!isLowLatencyName(name)) throw createError('WEB_ERR_NOT_FOUND', `/hls/${name}`);
  const result = await packager.waitForResource(name, new ClientGone(reply.raw), holdMs);
  if (!result.ok) {
    if (result.reason === 'aborted') return reply;
    throw createError('WEB_ERR_NOT_FOUND', `/hls/${name}`);
  }
  return reply
    .header('content-type', 'video/mp4')
    .header('cache-control', hlsCacheControl('media', cacheContext(packager, reply)))
    .send(result.value);
}

function cacheContext(packager: LlHlsPackager, reply: FastifyReply) {
  return {
    targetDuration: packager.targetDuration,
    authorized: reply.request.headers.authorization !== undefined,
  };
}

function setHlsHeaders(reply: FastifyReply, path: string): void {
  const context = { authorized: reply.request.headers.authorization !== undefined };
  if (path.endsWith(PLAYLIST_NAME)) {
    reply.header('content-type', PLAYLIST_CONTENT_TYPE);
    reply.header('cache-control', hlsCacheControl('playlist', context));
  } else {
    // Plain HLS is fMP4 too: init segments (.mp4) and segments (.m4s).
    reply.header('content-type', 'video/mp4');
    reply.header('cache-control', hlsCacheControl('media', context));
  }
}
