/**
 * The service, built by a factory and started elsewhere (server.ts). It owns the embedded broker
 * (when MQTT_URL is unset), the camera link and the stream manager, and closes them in order.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { clientErrorHandler, frameworkErrors } from './client-errors.js';
import type { ServiceConfig } from './config.js';
import { createError, isServiceError, toErrorBody, type ServiceError } from './errors.js';
import { closeUnusedConnectionsOnShutdown } from './http-connections.js';
import { CameraLink } from './mqtt/camera-link.js';
import { EmbeddedBroker } from './mqtt/embedded-broker.js';
import { clientRoutes } from './routes/client.js';
import { eventRoutes } from './routes/events.js';
import { hlsRoutes } from './routes/hls.js';
import { metricsRoutes } from './routes/metrics.js';
import { streamRoutes } from './routes/stream.js';
import { UdpIngest } from './ingest/udp-ingest.js';
import { warmUpFfmpeg } from './segmenter/ffmpeg-segmenter.js';
import { HlsFiles } from './stream/hls-files.js';
import { FileHlsOutput, LowLatencyOutput } from './stream/hls-output.js';
import { StreamManager } from './stream/stream-manager.js';
import { LlHlsPackager } from './llhls/packager.js';

export interface BuildAppOptions {
  /** false: no logging (tests). Default: pino at LOG_LEVEL. */
  readonly logger?: boolean;
  /** Period of the server-sent events heartbeat (default 15 s). */
  readonly sseHeartbeatMs?: number;
}

/** What the app owns, available once `app.ready()` has resolved. */
export interface ServiceHandles {
  /** The broker the service uses: MQTT_URL, or the embedded broker's actual address. */
  readonly mqttUrl: string;
  readonly streams: StreamManager;
}

declare module 'fastify' {
  interface FastifyInstance {
    camstream: ServiceHandles;
  }
}

function errorFor(error: FastifyError | ServiceError): ServiceError {
  if (isServiceError(error)) return error;
  const status = error.statusCode ?? 500;
  // @fastify/static answers 403 for a path it refuses (`//api/stream`, an overlong segment): to a
  // client, nothing is there.
  if (status === 404 || status === 403) return createError('WEB_ERR_NOT_FOUND', error.message);
  // Schema failures, malformed JSON, unsupported content types, bodies too large.
  if (status >= 400 && status < 500) return createError('WEB_ERR_BAD_REQUEST', error.message);
  return createError('WEB_ERR_INTERNAL', 'see the service log');
}

export function buildApp(config: ServiceConfig, options: BuildAppOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: options.logger === false ? false : { level: config.logLevel },
    // Fastify's Ajv defaults would strip unknown keys (removeAdditional) and coerce types; the
    // contract wants `{"camera": "x"}` to be a 400, not silently `{}`.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    // Fastify logs two lines per request by default; every viewer reloads the playlist and fetches a
    // segment each second, so that would be a flood. One line per request instead, below.
    disableRequestLogging: true,
    // Malformed requests and undecodable URLs get our JSON error body too (client-errors.ts).
    clientErrorHandler,
    frameworkErrors,
    // Node would answer an HTTP/1.1 request without Host itself, with an empty 400: the hook below
    // answers it with the JSON error instead.
    http: { requireHostHeader: false },
  });

  app.addHook('onRequest', async (request) => {
    if (request.raw.httpVersionMajor === 1 && request.raw.httpVersionMinor >= 1 && !request.headers.host) {
      throw createError('WEB_ERR_BAD_REQUEST', 'an HTTP/1.1 request needs a Host header');
    }
  });

  // API calls at info; HLS and static files (the per-viewer traffic) at debug; server errors at error.
  app.addHook('onResponse', async (request, reply) => {
    const line = {
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    };
    if (reply.statusCode >= 500) request.log.error(line, 'request failed');
    else if (request.url.startsWith('/api/')) request.log.info(line, 'request');
    else request.log.debug(line, 'request');
  });

  let broker: EmbeddedBroker | undefined;
  let link: CameraLink | undefined;
  let streams: StreamManager | undefined;
  let packager: LlHlsPackager | undefined;
  const notReady = (): never => {
    throw new Error('the service is not ready: await app.ready() first');
  };
  app.decorate('camstream', {
    get mqttUrl() {
      return config.mqttUrl ?? broker?.url ?? notReady();
    },
    get streams() {
      return streams ?? notReady();
    },
  });

  app.setErrorHandler((error: FastifyError | ServiceError, request, reply) => {
    const serviceError = errorFor(error);
    // Expected failures (camera offline, timeout, bad input) are not stack traces in the log.
    if (serviceError.code === 'WEB_ERR_INTERNAL') request.log.error({ err: error }, 'request failed');
    else request.log.warn({ code: serviceError.code }, serviceError.message);
    return reply.code(serviceError.statusCode).send(toErrorBody(serviceError));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(toErrorBody(createError('WEB_ERR_NOT_FOUND', `${request.method} ${request.url}`))),
  );

  // `content-type: application/json` with an empty body means "no parameters" here, as no body does.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else parseJson(request, body as string, done);
  });

  app.register(async (scope) => {
    try {
      await warmUpFfmpeg(config.ffmpegPath);
    } catch (err) {
      scope.log.error({ err, ffmpegPath: config.ffmpegPath }, 'ffmpeg is not usable: starts will fail');
    }
    // Leftovers of a service that did not shut down cleanly: the service starts idle.
    await new HlsFiles(config.hlsDir, scope.log).clear();
    if (config.mqttUrl === undefined) {
      broker = await EmbeddedBroker.start(config.embeddedBrokerHost, config.embeddedBrokerPort, scope.log);
    }
    link = new CameraLink({
      url: config.mqttUrl ?? broker!.url,
      username: config.mqttUsername,
      password: config.mqttPassword,
      cameraId: config.cameraId,
      logger: scope.log,
    });
    if (config.hlsMode === 'll') {
      packager = new LlHlsPackager({
        ...(config.hlsPartMs !== undefined && { partTarget: config.hlsPartMs / 1000 }),
        targetDuration: config.hlsSegmentSeconds,
        listSize: config.hlsListSize,
        logger: scope.log,
      });
    }
    const output = packager ? new LowLatencyOutput(packager) : new FileHlsOutput(config.hlsDir, scope.log);
    const ingest = new UdpIngest({
      listen: config.udpListen,
      sources: config.udpSources ?? [],
      logger: scope.log,
    });
    streams = new StreamManager({ config, link, logger: scope.log, output, ingest });
    // Answer the first requests knowing the camera's retained status, if the broker is there;
    // if it is not, the service still starts (and reconnects by itself).
    try {
      await link.whenSubscribed(AbortSignal.timeout(3000));
    } catch {
      scope.log.warn({ url: link.brokerUrl }, 'the MQTT broker is not reachable yet; carrying on');
    }

    streamRoutes(scope, streams);
    eventRoutes(scope, streams, { heartbeatMs: options.sseHeartbeatMs ?? 15_000 });
    metricsRoutes(scope, { streams, ingest, ...(packager && { packager }) });
    await scope.register(hlsRoutes, { hlsDir: config.hlsDir, ...(packager && { packager }) });
    await scope.register(clientRoutes, { clientDir: config.clientDir });
  });

  // Shutdown, in order: stop taking work (a waiting start answers 503 so the server can drain),
  // then once the server is closed: stop the stream, close the MQTT link, close the broker.
  app.addHook('preClose', async () => {
    streams?.refuseNewWork();
    packager?.clear(); // blocked playlist and part requests answer now, so the server can drain
  });
  closeUnusedConnectionsOnShutdown(app);
  app.addHook('onClose', async () => {
    await streams?.close();
    await link?.close();
    await broker?.close();
  });

  return app;
}
