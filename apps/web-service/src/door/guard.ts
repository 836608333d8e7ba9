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
import { createError, type ServiceError } from '../errors.js';
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

/** Why a watcher of /hls (or of another route that takes signed URLs) is refused. */
type WatchRefusal = 'no-token' | 'bad-signature' | BadCredentials | 'forbidden';
/** Why an Authorization header names no identity: 401s, each counted as a failure. */
type BadCredentials = 'bad-header' | 'unknown-token';
const WHY: Readonly<Record<BadCredentials, string>> = {
  'bad-header': 'the Authorization header is not "Bearer <token>"',
  'unknown-token': 'unknown token',
};

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

  /** The identity an Authorization header names, or why it names none. */
  const identityOf = (authorization: string): Identity | BadCredentials => {
    const match = BEARER.exec(authorization);
    if (!match) return 'bad-header';
    return tokens.lookUp(match[1]!) ?? 'unknown-token';
  };

  /** The identity of the Authorization header (or ?token= where allowed); undefined: none was sent. */
  const identify = (
    request: FastifyRequest,
    reply: FastifyReply,
    queryToken: boolean,
  ): Identity | undefined => {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const identity = identityOf(header);
      return typeof identity === 'string' ? refuse(request, reply, WHY[identity]) : identity;
    }
    const query = (request.query ?? {}) as Record<string, unknown>;
    if (!queryToken || typeof query.token !== 'string') return undefined;
    return tokens.lookUp(query.token) ?? refuse(request, reply, WHY['unknown-token']);
  };

  /**
   * Who may watch `camera` on a route that takes signed URLs (/hls, and routes with `signedUrl`),
   * where tokens are required and the address is not rate-limited: the one rule of both the hook
   * (`guardWatch`, which answers a refusal) and routes/hls-fast.ts (`admitHls`, which leaves a
   * refusal to Fastify and the hook). An Authorization header decides if there is one; a signed
   * ?token= for this camera otherwise.
   */
  const decideWatch = (request: HlsCredentials, camera: string | undefined): HlsAdmission | WatchRefusal => {
    if (request.authorization === undefined) {
      if (request.token === undefined) return 'no-token';
      if (camera === undefined || !signer.verify(request.token, camera)) return 'bad-signature';
      return { authorized: false, signedCamera: camera };
    }
    const identity = identityOf(request.authorization);
    if (typeof identity === 'string') return identity;
    return judge(identity, 'watch', camera) === 'forbidden' ? 'forbidden' : AUTHORIZED;
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
    if (signable && access === 'watch') return guardWatch(request, reply, path, query, camera);
    const identity = identify(request, reply, routeConfig.queryToken === true);
    if (!identity) refuse(request, reply, `${request.method} ${path}: no token`);
    if (judge(identity!, access, camera) === 'forbidden') throw forbidden(access, identity!, camera);
  };

  /** Watching on a route that takes signed URLs (players that cannot send headers: VLC, <img>). */
  const guardWatch = (
    request: FastifyRequest,
    reply: FastifyReply,
    path: string,
    query: Record<string, unknown>,
    camera: string | undefined,
  ): void => {
    const { authorization } = request.headers;
    const token = typeof query.token === 'string' ? query.token : undefined;
    const verdict = decideWatch({ address: request.ip, authorization, token }, camera);
    if (verdict === 'no-token') return refuse(request, reply, `${request.method} ${path}: no token`);
    if (verdict === 'bad-signature') {
      return refuse(request, reply, `${path}: the signed token is invalid, expired or for another camera`);
    }
    if (verdict === 'bad-header' || verdict === 'unknown-token') return refuse(request, reply, WHY[verdict]);
    if (verdict === 'forbidden') throw forbidden('watch', undefined, camera);
    const { signedCamera } = verdict;
    if (signedCamera === undefined) return;
    passed.set(request, { signedCamera });
    if (path.endsWith('.m3u8')) {
      // A signed playlist is rewritten whole (fresh tokens): never a byte range of the file (ffmpeg
      // asks for `bytes=0-`) nor a 304 for the unsigned file's validators.
      for (const name of ['range', 'if-range', 'if-none-match', 'if-modified-since']) {
        delete request.raw.headers[name];
      }
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

  // What `guard` does for a GET of /hls (access watch, signable), without throwing: its steps before
  // `decideWatch`, then that rule; undefined wherever the hook would refuse.
  const admitHls = (request: HlsCredentials, cameraId: string): HlsAdmission | undefined => {
    if (!tokens.required) return request.authorization === undefined ? OPEN : AUTHORIZED;
    if (failures.retryAfterMs(request.address ?? '') > 0) return undefined; // the hook's checkRate
    const verdict = decideWatch(request, cameraId);
    return typeof verdict === 'string' ? undefined : verdict;
  };

  return { tokens, signer, admitHls };
}

/** The 403: what this token may not do (`identity` where it is known). */
function forbidden(
  access: 'watch' | 'operate',
  identity: Identity | undefined,
  camera: string | undefined,
): ServiceError {
  const what = access === 'operate' && identity?.role !== 'operator' ? 'a viewer token may only watch' : '';
  return createError(
    'WEB_ERR_FORBIDDEN',
    what ||
      (camera === EVERY_CAMERA ? 'this token may watch some cameras only: name one with ?camera=' : '') ||
      `this token may not ${access === 'operate' ? 'command' : 'watch'} camera ${JSON.stringify(camera)}`,
  );
}

function isStream(payload: unknown): payload is Readable {
  return payload instanceof Readable;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
