/**
 * Security headers (helmet, called from an onRequest hook as @fastify/helmet does: that plugin's
 * require('helmet') resolves to the wrong export under the test runner's conditions) with a CSP the player works under, and the rate limit on start
 * and stop (@fastify/rate-limit, per address and route: each start and stop route has its own count;
 * routes opt in with `config.rateLimit: COMMAND_LIMIT`).
 */
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { createError } from '../errors.js';
import type { FailureLimit } from './failures.js';

export interface RateLimits {
  readonly authFailures?: FailureLimit;
  readonly commands?: FailureLimit;
}

/** Calls of one start or stop route per address and minute: a person clicking never gets near it. */
export const DEFAULT_COMMAND_LIMIT: FailureLimit = { max: 60, windowMs: 60_000 };

/**
 * `authRequired`: start and stop are rate-limited only where tokens are (the service reaches beyond
 * loopback); a local service and its tests start and stop as often as they like. Returns the headers
 * every /hls answer carries (undefined if helmet could not be recorded), for routes/hls-fast.ts.
 */
export function installSecurityHeaders(
  app: FastifyInstance,
  authRequired: boolean,
  limits: RateLimits = {},
): Readonly<Record<string, string>> | undefined {
  const headers = securityHeaders();
  const fixed = recordHeaders(headers);
  app.addHook('onRequest', (request, reply, done) => {
    // /hls (the per-viewer traffic, thousands of answers a second, never hijacked): the same headers
    // through Fastify's reply, written with its own at once, instead of eleven setHeader calls on
    // the raw response. Everything else (hijacked event and picture streams among it) as helmet does.
    if (fixed && request.url.startsWith('/hls/')) {
      reply.headers(fixed);
      return done();
    }
    headers(request.raw, reply.raw, (err) => done(err as Error | undefined));
  });
  if (!authRequired) return fixed;
  const commands = limits.commands ?? DEFAULT_COMMAND_LIMIT;
  app.register(rateLimit, {
    global: false,
    // After authentication and validation: refused and malformed requests do not count.
    hook: 'preHandler',
    max: commands.max,
    timeWindow: commands.windowMs,
    errorResponseBuilder: (request, context) =>
      createError(
        'WEB_ERR_RATE_LIMITED',
        `more than ${context.max} ${request.method} ${request.routeOptions.url ?? ''} from this address`,
        Math.ceil(context.ttl / 1000),
      ),
  });
  return fixed;
}

/** Helmet with a CSP the player works under. */
export function securityHeaders(): ReturnType<typeof helmet> {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // hls.js runs its transmuxer in a blob: worker and plays through MediaSource blob: URLs.
        workerSrc: ["'self'", 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        imgSrc: ["'self'", 'data:', 'blob:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        frameAncestors: ["'self'"],
        formAction: ["'self'"],
      },
    },
    // Players on other origins fetch /hls and WHEP (their CORS headers say so): not same-origin only.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    // HSTS belongs to the TLS edge (infra/edge), which knows whether HTTPS is served.
    strictTransportSecurity: false,
  });
}

/**
 * The headers `middleware` sets, recorded once on a stand-in response: helmet's with the options
 * above depend on nothing in the request. Undefined if it does anything else (reads the request,
 * answers later, fails): then it runs on every request.
 */
export function recordHeaders(
  middleware: (request: IncomingMessage, response: ServerResponse, next: (err?: unknown) => void) => void,
): Record<string, string> | undefined {
  const set: Record<string, string> = {};
  let usable = false;
  let other = false;
  const response = {
    setHeader(name: string, value: unknown) {
      if (typeof value === 'string') set[name.toLowerCase()] = value;
      else other = true;
      return response;
    },
    // X-Powered-By: never set by Node or Fastify, so there is nothing to remove.
    removeHeader(name: string) {
      if (name.toLowerCase() !== 'x-powered-by') other = true;
    },
  };
  const request = new Proxy({} as IncomingMessage, {
    get: () => {
      other = true;
      return undefined;
    },
  });
  try {
    middleware(request, response as unknown as ServerResponse, (err) => {
      usable = err === undefined;
    });
  } catch {
    return undefined;
  }
  return usable && !other ? set : undefined;
}

/** Route config of start and stop. */
export const COMMAND_LIMIT = { rateLimit: {} } as const;
