/**
 * The LL-HLS answers a thousand viewers ask for, answered before Fastify routes the request (app.ts
 * hands every request here first): a GET of a camera's playlist (blocking or not) or of a part,
 * init segment or segment from its packager's memory. Each playlist version is one Buffer with its
 * headers built once (a flat array for `writeHead`), shared by every answer; a held request is one
 * small object in its packager's group (a shared callback and its context: no promise, no closure
 * per request), answered in the packager's one pass when the part it waits for is made.
 *
 * The door applies first (door/guard.ts's `admitHls`, the onRequest hook's rules for /hls): a
 * request it would refuse, count or rate-limit goes to Fastify, whose hook answers it; a signed
 * ?token= gets its playlist signed afresh (once per version and token, shared), an Authorization
 * header the `private` Cache-Control. Everything else goes to Fastify too, which has the reference
 * behaviour: other methods, plain HLS, a URL or query that is anything but plain (escapes, repeated or
 * malformed directives), a name the packager does not have, any error that is known at once (Fastify
 * answers it with its coded error), and all of /hls when the access log is at debug. What this answers is what Fastify would have answered, header
 * for header (apps/web-service/test/routes-hls-fast.test.ts compares the two); only the errors that come after a hold (a
 * blocking reload's 503 after three target durations, a hinted part that was never made, a stop) are
 * written here, with the same coded bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Door, HlsAdmission } from '../door/guard.js';
import { signPlaylist } from '../door/signed.js';
import { createError, toErrorBody, type ServiceError } from '../errors.js';
import { blockingTarget, type Directives } from '../outputs/ll-hls/model.js';
import type { Held, LlHlsPackager, WaitResult } from '../outputs/ll-hls/packager.js';
import { isLowLatencyName, PLAYLIST_NAME } from '../outputs/names.js';
import { readHlsUrl } from './hls-request.js';
import { ERROR_CACHE_CONTROL, hlsCacheControl, PLAYLIST_CONTENT_TYPE, type HlsRouteOptions } from './hls.js';

export interface HlsFastPathOptions {
  /** The cameras, once the service is ready and until it begins to close; undefined otherwise. */
  readonly registry: () => HlsRouteOptions['registry'] | undefined;
  /** The headers every /hls answer carries (door/headers.ts recorded helmet's); undefined: no fast path. */
  readonly securityHeaders: Readonly<Record<string, string>> | undefined;
  /** The door: who may watch, and signed URLs. */
  readonly door: Pick<Door, 'admitHls' | 'signer'>;
  /** The camera of /hls/<name> (CAMERA_ID). */
  readonly defaultCameraId: string;
  readonly log: FastifyBaseLogger;
}

export interface HlsFastPath {
  /** Answers the request (now or once it is ready) and returns true, or returns false having touched nothing. */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
  /** Answers written so far (tests: proof that this path, not Fastify, answered). */
  readonly answered: number;
}

/** A held request: its context in the packager's group. */
interface Pending {
  readonly response: ServerResponse;
  readonly packager: LlHlsPackager;
  /** The playlist's name (a playlist request), or the part's. */
  readonly name: string;
  readonly skip: boolean;
  readonly admission: HlsAdmission;
  readonly wanted: string;
  readonly holdMs: number;
  held: Held | undefined;
}

const PENDING = Symbol('camstream.hls.pending');
type HeldResponse = ServerResponse & { [PENDING]?: Pending };

export function createHlsFastPath(options: HlsFastPathOptions): HlsFastPath {
  const { securityHeaders, log } = options;
  if (securityHeaders === undefined) return { handle: () => false, answered: 0 };
  const { door, defaultCameraId } = options;
  const answers = new Answers(hlsBaseHeaders(securityHeaders), log, door.signer);

  const handle = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (request.method !== 'GET') return false;
    const url = request.url!;
    if (!url.startsWith('/hls/')) return false;
    const { host, authorization } = readHeaders(request.rawHeaders);
    if (request.httpVersionMajor === 1 && request.httpVersionMinor >= 1 && !host) return false;
    if (log.level === 'debug' || log.level === 'trace') return false; // the access log: Fastify writes it
    const registry = options.registry();
    if (!registry) return false;

    const target = readHlsUrl(url);
    if (!target) return false;
    let camera = registry.default;
    let cameraId = defaultCameraId;
    const { name, query } = target;
    if (target.cameraId !== undefined) {
      const named = registry.get(target.cameraId);
      if (!named) return false;
      camera = named;
      cameraId = target.cameraId;
    }
    const packager = camera.packager;
    if (!packager) return false;
    if (!query) return false;
    const admission = door.admitHls(
      { address: request.socket.remoteAddress, authorization, token: query.token },
      cameraId,
    );
    if (!admission) return false;

    if (name === PLAYLIST_NAME) {
      if (!query.directives) return false; // malformed: Fastify's 400
      return answers.playlist(response, packager, name, query.directives, admission);
    }
    if (!isLowLatencyName(name)) return false;
    return answers.media(response, packager, name, admission);
  };
  return {
    handle,
    get answered() {
      return answers.answered;
    },
  };
}

/** The headers every /hls answer starts with, flat: the security headers, then CORS's. */
export function hlsBaseHeaders(securityHeaders: Readonly<Record<string, string>>): string[] {
  const base: string[] = [];
  for (const [name, value] of Object.entries(securityHeaders)) base.push(name, value);
  base.push('access-control-allow-origin', '*');
  return base;
}

/**
 * Host's presence and the first Authorization header (as Node keeps it), from the raw list: reading
 * `request.headers` would build the whole headers object for every request.
 */
function readHeaders(raw: readonly string[]): { host: boolean; authorization: string | undefined } {
  let host = false;
  let authorization: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') host = true;
    else if (name.length === 13 && authorization === undefined && name.toLowerCase() === 'authorization')
      authorization = raw[i + 1];
  }
  return { host, authorization };
}

/** Writes answers: headers built once per body, errors as Fastify's error handler writes them. */
class Answers {
  readonly #base: readonly string[];
  readonly #log: FastifyBaseLogger;
  readonly #signer: Door['signer'];
  /** Each body's headers, by its Buffer (one per playlist version and variant, one per part), by Cache-Control. */
  readonly #headers = new WeakMap<Buffer, Map<string, string[]>>();
  /** Each playlist's signed copy, by camera: the one for the token of this second. */
  readonly #signed = new WeakMap<Buffer, Map<string, { token: string; body: Buffer }>>();
  answered = 0;

  constructor(base: readonly string[], log: FastifyBaseLogger, signer: Door['signer']) {
    this.#base = base;
    this.#log = log;
    this.#signer = signer;
  }

  playlist(
    response: ServerResponse,
    packager: LlHlsPackager,
    name: string,
    directives: Directives,
    admission: HlsAdmission,
  ): boolean {
    const skip = directives.skip === true;
    if (directives.msn === undefined) {
      const body = packager.playlistBytes({ skip });
      if (!body) return false; // no stream: Fastify's 404
      this.#sendPlaylist(response, packager, body, admission, false);
      return true;
    }
    const holdMs = packager.holdMs;
    const wanted = blockingTarget(directives.msn, directives.part);
    const pending: Pending = { response, packager, name, skip, admission, wanted, holdMs, held: undefined };
    const held = packager.holdPlaylist(directives.msn, directives.part, holdMs, this.#playlistDone, pending);
    if (held === 'too-far') return false; // Fastify's 400
    if ('held' in held) return this.#hold(response, pending, held);
    if (!held.ok) return false;
    this.#playlistDone(held, pending);
    return true;
  }

  media(response: ServerResponse, packager: LlHlsPackager, name: string, admission: HlsAdmission): boolean {
    const holdMs = packager.holdMs;
    const pending: Pending = {
      response,
      packager,
      name,
      skip: false,
      admission,
      wanted: name,
      holdMs,
      held: undefined,
    };
    const held = packager.holdResource(name, holdMs, this.#mediaDone, pending);
    if ('held' in held) return this.#hold(response, pending, held);
    if (!held.ok) return false; // Fastify's 404
    this.#mediaDone(held, pending);
    return true;
  }

  #hold(response: ServerResponse, pending: Pending, held: Held): true {
    pending.held = held;
    (response as HeldResponse)[PENDING] = pending;
    response.on('close', clientGone);
    return true;
  }

  /** A held (or ready) blocking reload ends: the playlist as it is now, or the coded error. */
  readonly #playlistDone = (result: WaitResult<void>, pending: Pending): void => {
    if (!result.ok && result.reason === 'aborted') return;
    const { response, packager } = pending;
    if (!result.ok && result.reason === 'timeout') {
      return this.#error(
        response,
        createError('WEB_ERR_HLS_BLOCKING_TIMEOUT', pending.wanted, pending.holdMs),
        pending,
      );
    }
    const body = packager.playlistBytes({ skip: pending.skip });
    if (!body)
      return this.#error(
        response,
        createError('WEB_ERR_NOT_FOUND', `/hls/${pending.name}: no stream is live`),
      );
    this.#sendPlaylist(response, packager, body, pending.admission, true);
  };

  /** A held (or found) part ends: its bytes, or a 404 (another part was made, a stop, a timeout). */
  readonly #mediaDone = (result: WaitResult<Buffer>, pending: Pending): void => {
    if (!result.ok) {
      if (result.reason !== 'aborted')
        this.#error(pending.response, createError('WEB_ERR_NOT_FOUND', `/hls/${pending.name}`));
      return;
    }
    const cacheControl = hlsCacheControl('media', { authorized: pending.admission.authorized });
    this.#send(pending.response, result.value, 'video/mp4', cacheControl);
  };

  #sendPlaylist(
    response: ServerResponse,
    packager: LlHlsPackager,
    unsigned: Buffer,
    admission: HlsAdmission,
    blocking: boolean,
  ): void {
    const cacheControl = hlsCacheControl(blocking ? 'blocking-playlist' : 'playlist', {
      targetDuration: packager.targetDuration,
      authorized: admission.authorized,
    });
    const body =
      admission.signedCamera === undefined ? unsigned : this.#signedCopy(unsigned, admission.signedCamera);
    this.#send(response, body, PLAYLIST_CONTENT_TYPE, cacheControl);
  }

  /** The playlist with a fresh token on every URI (as the door's onSend hook signs it), once per token. */
  #signedCopy(unsigned: Buffer, cameraId: string): Buffer {
    const token = this.#signer.sign(cameraId);
    let byCamera = this.#signed.get(unsigned);
    if (!byCamera) this.#signed.set(unsigned, (byCamera = new Map()));
    const cached = byCamera.get(cameraId);
    if (cached?.token === token) return cached.body;
    const body = Buffer.from(signPlaylist(unsigned.toString('utf8'), token), 'utf8');
    byCamera.set(cameraId, { token, body });
    return body;
  }

  #send(response: ServerResponse, body: Buffer, contentType: string, cacheControl: string): void {
    if (response.headersSent || response.destroyed) return;
    let byCacheControl = this.#headers.get(body);
    if (!byCacheControl) this.#headers.set(body, (byCacheControl = new Map()));
    let headers = byCacheControl.get(cacheControl);
    if (!headers) {
      headers = this.#with(cacheControl, contentType, String(body.length));
      byCacheControl.set(cacheControl, headers);
    }
    response.writeHead(200, headers);
    response.end(body);
    this.answered += 1;
  }

  #with(cacheControl: string, contentType: string, length: string): string[] {
    return [
      ...this.#base,
      'cache-control',
      cacheControl,
      'content-type',
      contentType,
      'content-length',
      length,
    ];
  }

  /** As app.ts's error handler answers a ServiceError (and logs it), with /hls's headers. */
  #error(response: ServerResponse, error: ServiceError, pending?: Pending): void {
    if (response.headersSent || response.destroyed) return;
    this.#log.warn({ code: error.code }, error.message);
    const text = JSON.stringify(toErrorBody(error));
    const length = String(Buffer.byteLength(text));
    response.writeHead(
      error.statusCode,
      this.#with(ERROR_CACHE_CONTROL, 'application/json; charset=utf-8', length),
    );
    response.end(text);
    this.answered += 1;
    if (error.statusCode >= 500 && pending) {
      this.#log.error(
        { method: 'GET', url: `/hls/${pending.name}`, status: error.statusCode, ms: pending.holdMs },
        'request failed',
      );
    }
  }
}

/** A held request's response closed before its answer (the client went away): it leaves its group. */
function clientGone(this: HeldResponse): void {
  const pending = this[PENDING];
  if (pending?.held && !this.writableFinished) pending.packager.cancel(pending.held);
}
