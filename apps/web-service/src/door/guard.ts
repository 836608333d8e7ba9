/**
 * The door: every request's route declares what it needs (`config.access`: public, watch, operate,
 * metrics; by default watch for GET/HEAD and operate for the rest, so a route added later is guarded
 * without a word), and this onRequest hook lets it in, or answers 401 (no or unknown token), 403
 * (wrong role or camera) or 429 (too many failures from the address). Also: GET /api/auth for the
 * client, signed stream URLs in the API's answers and in playlists fetched with one, CORS for /api.
 */
import { Readable } from 'node:stream';
import { isLoopback } from '../loopback.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createError } from '../errors.js';
import {
  cameraOfHlsPath,
  cameraOfRequest,
  defaultAccess,
  EVERY_CAMERA,
  judge,
  type Access,
} from './access.js';
import { FailureLimiter, type FailureLimit } from './failures.js';
import type { DoorConfig } from './settings.js';
import { signPlaylist, UrlSigner } from './signed.js';
import { sameSecret, TokenStore, type Identity } from './tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a request on this route needs; unset: watch for GET/HEAD, operate otherwise. */
    access?: Access;
    /** The route (server-sent events: EventSource sends no headers) takes the token as ?token= too. */
    queryToken?: boolean;
    /** The route takes a signed stream URL's ?token= (as /hls does): for <img> tags, VLC, ffmpeg. */
    signedUrl?: boolean;
  }
}

export interface DoorOptions {
  readonly config: DoorConfig;
  readonly defaultCameraId: string;
  readonly authFailures?: FailureLimit;
  readonly now?: () => number;
}

export const AUTH_PATH = '/api/auth';
const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

interface Passed {
  /** The camera a signed ?token= let in: its playlists carry fresh tokens on. */
  readonly signedCamera?: string;
}

export interface Door {
  readonly tokens: TokenStore;
  readonly signer: UrlSigner;
  /**
   * For routes/hls-fast.ts, which answers /hls before this hook runs: whether a GET of /hls about
   * `cameraId` passes the door as the hook would let it pass, and how (`authorized`: with an
   * Authorization header; `signedCamera`: with a signed ?token=, its playlists signed afresh).
   * Undefined for anything the hook would refuse, count or rate-limit: Fastify and the hook answer it.
   */
  admitHls(request: HlsCredentials, cameraId: string): HlsAdmission | undefined;
}

export interface HlsCredentials {
  readonly address: string | undefined;
  readonly authorization: string | undefined;
  /** The query's `token`, if it has exactly one. */
  readonly token: string | undefined;
}

export interface HlsAdmission {
  readonly authorized: boolean;
  readonly signedCamera?: string;
}

const OPEN: HlsAdmission = { authorized: false };
const AUTHORIZED: HlsAdmission = { authorized: true };

export function installDoor(app: FastifyInstance, options: DoorOptions): Door {
  const { config, defaultCameraId } = options;
  const now = options.now ?? Date.now;
  const tokens = new TokenStore(config.authTokens, config.authTokensFile, app.log, now);
  const signer = new UrlSigner(config.authSecret, config.signedUrlTtlS, now);
  const failures = new FailureLimiter(options.authFailures ?? { max: 20, windowMs: 60_000 }, now);
  const passed = new WeakMap<FastifyRequest, Passed>();
  const corsOrigins = new Set(config.corsOrigins ?? []);

  const refuse = (request: FastifyRequest, reply: FastifyReply, why: string): never => {
    failures.fail(request.ip);
    reply.header('www-authenticate', 'Bearer realm="camstream"');
    throw createError('WEB_ERR_UNAUTHORIZED', why);
  };

  const checkRate = (request: FastifyRequest, reply: FastifyReply): void => {
    const waitMs = failures.retryAfterMs(request.ip);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      reply.header('retry-after', String(seconds));
      throw createError('WEB_ERR_RATE_LIMITED', 'too many failed authentications from this address', seconds);
    }
  };

  /** The identity of the Authorization header (or ?token= where allowed); undefined: none was sent. */
  const identify = (
    request: FastifyRequest,
    reply: FastifyReply,
    queryToken: boolean,
  ): Identity | undefined => {
    const header = request.headers.authorization;
    let token: string | undefined;
    if (header !== undefined) {
      const match = BEARER.exec(header);
      if (!match) refuse(request, reply, 'the Authorization header is not "Bearer <token>"');
      token = match![1]!;
    } else if (queryToken) {
      const query = (request.query ?? {}) as Record<string, unknown>;
      if (typeof query.token === 'string') token = query.token;
    }
    if (token === undefined) return undefined;
    const identity = tokens.lookUp(token);
    if (!identity) refuse(request, reply, 'unknown token');
    return identity;
  };

  // A callback, not a promise, on every request (see app.ts): `guard` throws what it refuses.
  app.addHook('onRequest', (request, reply, done) => {
    try {
      guard(request, reply);
    } catch (err) {
      return done(err as Error);
    }
    done();
  });

  const guard = (request: FastifyRequest, reply: FastifyReply): void => {
    const path = request.url.split('?')[0]!;
    if (corsOrigins.size > 0 && path.startsWith('/api/') && !path.includes('/whep')) {
      const origin = request.headers.origin;
      if (origin !== undefined && corsOrigins.has(origin)) {
        reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
      }
    }
    const routeConfig = request.routeOptions.config ?? {};
    const access = routeConfig.access ?? defaultAccess(request.method);
    if (access === 'public') return;
    if (access === 'metrics') return guardMetrics(request, reply);
    if (!tokens.required) return;
    checkRate(request, reply);

    const query = (request.query ?? {}) as Record<string, unknown>;
    const camera = cameraOfRequest(path, request.params as Record<string, unknown>, defaultCameraId, query);
    const signable = path.startsWith('/hls/') || routeConfig.signedUrl === true;
    if (request.headers.authorization === undefined && signable && access === 'watch') {
      // Players that cannot send headers: a signed URL, bound to this camera, unexpired.
      if (typeof query.token !== 'string') refuse(request, reply, `${request.method} ${path}: no token`);
      if (!signer.verify(query.token as string, camera!)) {
        refuse(request, reply, `${path}: the signed token is invalid, expired or for another camera`);
      }
      passed.set(request, { signedCamera: camera! });
      if (path.endsWith('.m3u8')) {
        // A signed playlist is rewritten whole (fresh tokens): never a byte range of the file (ffmpeg
        // asks for `bytes=0-`) nor a 304 for the unsigned file's validators.
        for (const name of ['range', 'if-range', 'if-none-match', 'if-modified-since']) {
          delete request.raw.headers[name];
        }
      }
      return;
    }
    const identity = identify(request, reply, routeConfig.queryToken === true);
    if (!identity) refuse(request, reply, `${request.method} ${path}: no token`);
    if (judge(identity!, access, camera) === 'forbidden') {
      const what =
        access === 'operate' && identity!.role !== 'operator' ? 'a viewer token may only watch' : '';
      throw createError(
        'WEB_ERR_FORBIDDEN',
        what ||
          (camera === EVERY_CAMERA ? 'this token may watch some cameras only: name one with ?camera=' : '') ||
          `this token may not ${access === 'operate' ? 'command' : 'watch'} camera ${JSON.stringify(camera)}`,
      );
    }
  };

  const guardMetrics = (request: FastifyRequest, reply: FastifyReply): void => {
    if (config.metricsToken !== undefined) {
      checkRate(request, reply);
      const match = BEARER.exec(request.headers.authorization ?? '');
      if (!match || !sameSecret(match[1]!, config.metricsToken))
        refuse(request, reply, 'GET /metrics needs METRICS_TOKEN');
      return;
    }
    const address = request.socket.remoteAddress ?? '';
    if (!isLoopback(address)) {
      throw createError(
        'WEB_ERR_FORBIDDEN',
        '/metrics answers loopback clients only (set METRICS_TOKEN to open it)',
      );
    }
  };

  // Playlists fetched with a signed token sign every URI in them afresh: LL-HLS's from memory (a
  // string), plain HLS's from HLS_DIR (a file stream, read here: a playlist is a few kB).
  // Only signed requests need it, and only where tokens are (`passed` is empty otherwise).
  if (tokens.required)
    app.addHook('onSend', async (request, reply, payload) => {
      const signedCamera = passed.get(request)?.signedCamera;
      // HEAD answers carry no body to sign.
      if (signedCamera === undefined || reply.statusCode !== 200 || request.method !== 'GET') return payload;
      if (!String(reply.getHeader('content-type') ?? '').startsWith(PLAYLIST_TYPE)) return payload;
      const text =
        typeof payload === 'string' ? payload : isStream(payload) ? await readAll(payload) : undefined;
      if (text === undefined) return payload;
      // The file's validators would describe the unsigned file, not this answer.
      reply.removeHeader('etag').removeHeader('last-modified');
      return signPlaylist(text, signer.sign(signedCamera));
    });

  // The API's stream URLs carry a signed token when tokens are required.
  app.addHook('preSerialization', async (request, _reply, payload) => {
    if (
      !tokens.required ||
      !request.url.startsWith('/api/') ||
      payload === null ||
      typeof payload !== 'object'
    ) {
      return payload;
    }
    const sign = (info: { streamUrl?: unknown }): unknown =>
      typeof info.streamUrl === 'string' && info.streamUrl.startsWith('/hls/')
        ? {
            ...info,
            streamUrl: `${info.streamUrl}?token=${signer.sign(cameraOfHlsPath(info.streamUrl, defaultCameraId))}`,
          }
        : info;
    const body = payload as { streamUrl?: unknown; cameras?: unknown; recordings?: unknown };
    if (Array.isArray(body.cameras)) return { ...body, cameras: body.cameras.map(sign) };
    if (Array.isArray(body.recordings)) return { ...body, recordings: body.recordings.map(signRecording) };
    return sign(body);
  });

  // A recording's playlist and MP4 URLs, signed for its camera: for VLC, <video>, a download link.
  const signRecording = (recording: { cameraId: string; playlistUrl: string; mp4Url: string }) => {
    const token = signer.sign(recording.cameraId);
    return {
      ...recording,
      playlistUrl: `${recording.playlistUrl}?token=${token}`,
      mp4Url: `${recording.mp4Url}?token=${token}`,
    };
  };

  app.get(AUTH_PATH, { config: { access: 'public' } }, async (request, reply) => {
    if (!tokens.required) return { required: false };
    if (request.headers.authorization === undefined) return { required: true };
    checkRate(request, reply);
    const identity = identify(request, reply, false)!;
    return { required: true, role: identity.role, cameras: identity.cameras };
  });

  if (corsOrigins.size > 0) {
    app.options('/api/*', { config: { access: 'public' }, logLevel: 'warn' }, async (request, reply) => {
      const origin = request.headers.origin;
      if (origin !== undefined && corsOrigins.has(origin)) {
        reply
          .header('access-control-allow-methods', 'GET, POST, OPTIONS')
          .header('access-control-allow-headers', 'authorization, content-type')
          .header('access-control-max-age', '600');
      }
      return reply.code(204).send();
    });
  }

  // What `guard` does for a GET of /hls (access watch, signable), without throwing: undefined
  // wherever it would refuse.
  const admitHls = (request: HlsCredentials, cameraId: string): HlsAdmission | undefined => {
    if (!tokens.required) return request.authorization === undefined ? OPEN : AUTHORIZED;
    if (failures.retryAfterMs(request.address ?? '') > 0) return undefined;
    if (request.authorization === undefined) {
      if (request.token === undefined || !signer.verify(request.token, cameraId)) return undefined;
      return { authorized: false, signedCamera: cameraId };
    }
    const match = BEARER.exec(request.authorization);
    const identity = match ? tokens.lookUp(match[1]!) : undefined;
    if (!identity || judge(identity, 'watch', cameraId) === 'forbidden') return undefined;
    return AUTHORIZED;
  };

  return { tokens, signer, admitHls };
}

function isStream(payload: unknown): payload is Readable {
  return payload instanceof Readable;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
