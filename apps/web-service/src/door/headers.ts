/**
 * Security headers (helmet, called from an onRequest hook as @fastify/helmet does: that plugin's
 * require('helmet') resolves to the wrong export under the test runner's conditions) with a CSP the player works under, and the rate limit on start
 * and stop (@fastify/rate-limit, per address; routes opt in with `config.rateLimit: COMMAND_LIMIT`).
 */
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { createError } from '../errors.js';
import type { FailureLimit } from './failures.js';

export interface RateLimits {
  readonly authFailures?: FailureLimit;
  readonly commands?: FailureLimit;
}

/** Starts and stops per address and minute: a person clicking never gets near it. */
export const DEFAULT_COMMAND_LIMIT: FailureLimit = { max: 60, windowMs: 60_000 };

/**
 * `authRequired`: start and stop are rate-limited only where tokens are (the service reaches beyond
 * loopback); a local service and its tests start and stop as often as they like.
 */
export function installSecurityHeaders(
  app: FastifyInstance,
  authRequired: boolean,
  limits: RateLimits = {},
): void {
  const headers = helmet({
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
  app.addHook('onRequest', (request, reply, done) => {
    headers(request.raw, reply.raw, (err) => done(err as Error | undefined));
  });
  if (!authRequired) return;
  const commands = limits.commands ?? DEFAULT_COMMAND_LIMIT;
  app.register(rateLimit, {
    global: false,
    // After authentication and validation: refused and malformed requests do not count.
    hook: 'preHandler',
    max: commands.max,
    timeWindow: commands.windowMs,
    errorResponseBuilder: (_request, context) =>
      createError(
        'WEB_ERR_RATE_LIMITED',
        `more than ${context.max} starts and stops from this address`,
        Math.ceil(context.ttl / 1000),
      ),
  });
}

/** Route config of start and stop. */
export const COMMAND_LIMIT = { rateLimit: {} } as const;
