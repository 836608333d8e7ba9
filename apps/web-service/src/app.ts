/**
 * The service, built by a factory and started elsewhere (server.ts). It owns the embedded broker
 * (when MQTT_URL is unset), the one MQTT connection and the cameras (each with its link, ingest,
 * output and stream manager), and closes them in order.
 */
import { createServer } from 'node:http';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { clientErrorHandler, frameworkErrors } from './client-errors.js';
import type { ServiceConfig } from './config.js';
import { createError, isServiceError, toErrorBody, type ServiceError } from './errors.js';
import { closeUnusedConnectionsOnShutdown } from './http-connections.js';
import { CameraRegistry } from './cameras/registry.js';
import { MqttConnection } from './mqtt/connection.js';
import { EmbeddedBroker } from './mqtt/embedded-broker.js';
import { HomeAssistantDiscovery, homeAssistantWill } from './mqtt/home-assistant.js';
import { cameraRoutes } from './routes/cameras.js';
import { clientRoutes } from './routes/client.js';
import { eventRoutes } from './routes/events.js';
import { hlsRoutes } from './routes/hls.js';
import { createHlsFastPath, hlsBaseHeaders, type HlsFastPath } from './routes/hls-fast.js';
import { installEgress, type Egress } from './egress/install.js';
import type { EgressWorkers } from './egress/workers.js';
import { metricsRoutes } from './routes/metrics.js';
import { pictureRoutes } from './routes/pictures.js';
import { streamRoutes } from './routes/stream.js';
import { whepRoutes } from './routes/whep.js';
import { installDoor } from './door/guard.js';
import { installSecurityHeaders, type RateLimits } from './door/headers.js';
import { redactUrl } from './door/signed.js';
import { warmUpFfmpeg } from './ingest/remuxer.js';
import { clearLeftovers } from './outputs/plain-hls/files.js';
import { Retention } from './outputs/recordings/retention.js';
import { RecordingStore } from './outputs/recordings/store.js';
import { recordingRoutes } from './routes/recordings.js';
import type { StreamManager } from './stream/stream-manager.js';

export interface BuildAppOptions {
  /** false: no logging (tests). Default: pino at LOG_LEVEL. */
  readonly logger?: boolean;
  /** Period of the server-sent events heartbeat (default 15 s). */
  readonly sseHeartbeatMs?: number;
  /** Failed authentications and starts/stops per address (tests shorten the windows). */
  readonly rateLimits?: RateLimits;
}

/** What the app owns, available once `app.ready()` has resolved. */
export interface ServiceHandles {
  /** The broker the service uses: MQTT_URL, or the embedded broker's actual address. */
  readonly mqttUrl: string;
  readonly cameras: CameraRegistry;
  /** The default camera's stream. */
  readonly streams: StreamManager;
  /** /hls answers written before Fastify's routing (routes/hls-fast.ts). */
  readonly hlsFastAnswers: number;
  /** HLS_WORKERS's processes (egress/), once the server listens; undefined with HLS_WORKERS=0. */
  readonly egress: EgressWorkers | undefined;
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
  // LL-HLS playlists and parts, the per-viewer traffic, are answered before Fastify routes the
  // request (routes/hls-fast.ts); the rest, and whatever that path leaves, goes on to Fastify.
  let hlsFastPath: HlsFastPath = { handle: () => false, answered: 0 };
  let closing = false;
  const app = Fastify({
    logger: options.logger === false ? false : { level: config.logLevel },
    // Fastify's Ajv defaults would strip unknown keys (removeAdditional) and coerce types; the
    // contract wants `{"camera": "x"}` to be a 400, not silently `{}`.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    // Fastify logs two lines per request by default; every viewer reloads the playlist and fetches a
    // segment each second, so that would be a flood. One line per request instead, below.
    logController: new LogController({ disableRequestLogging: true }),
    // Malformed requests and undecodable URLs get our JSON error body too (client-errors.ts).
    clientErrorHandler,
    frameworkErrors,
    serverFactory: (handler, { keepAliveTimeout, requestTimeout }) => {
      // Node would answer an HTTP/1.1 request without Host itself, with an empty 400: the hook below
      // answers it with the JSON error instead.
      const server = createServer(
        { requireHostHeader: false, maxHeaderSize: 16 * 1024 },
        (request, response) => {
          if (!hlsFastPath.handle(request, response)) handler(request, response);
        },
      );
      // What Fastify sets on a server it makes itself.
      server.keepAliveTimeout = keepAliveTimeout as number;
      server.requestTimeout = requestTimeout as number;
      return server;
    },
    // Start and stop take `{}`; WHEP offers have their own limit (whep.ts).
    bodyLimit: 64 * 1024,
  });

  // Hooks on every request take a callback, not a promise: a thousand viewers make thousands of
  // requests a second, and each promise is a microtask and garbage.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.raw.httpVersionMajor === 1 && request.raw.httpVersionMinor >= 1 && !request.headers.host) {
      done(createError('WEB_ERR_BAD_REQUEST', 'an HTTP/1.1 request needs a Host header'));
    } else done();
  });

  // API calls at info; HLS and static files (the per-viewer traffic) at debug; server errors at error.
  const debug = (request: FastifyRequest) => request.log.level === 'debug' || request.log.level === 'trace';
  app.addHook('onResponse', (request, reply, done) => {
    const api = request.url.startsWith('/api/');
    // Most requests are HLS at debug: nothing to build when debug is off.
    if (reply.statusCode < 500 && !api && !debug(request)) return done();
    const line = {
      method: request.method,
      // Signed URLs' tokens stay out of the log.
      url: redactUrl(request.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    };
    if (reply.statusCode >= 500) request.log.error(line, 'request failed');
    else if (api) request.log.info(line, 'request');
    else request.log.debug(line, 'request');
    done();
  });

  // Authentication, signed URLs, CORS for /api (door/guard.ts); security headers, rate limits.
  const door = installDoor(app, {
    config,
    defaultCameraId: config.cameraId,
    ...(options.rateLimits?.authFailures && { authFailures: options.rateLimits.authFailures }),
  });
  const hlsHeaders = installSecurityHeaders(app, door.tokens.required, options.rateLimits);

  let broker: EmbeddedBroker | undefined;
  let connection: MqttConnection | undefined;
  let cameras: CameraRegistry | undefined;
  let homeAssistant: HomeAssistantDiscovery | undefined;
  let retention: Retention | undefined;
  let egress: Egress = { workers: undefined };
  const notReady = (): never => {
    throw new Error('the service is not ready: await app.ready() first');
  };
  app.decorate('camstream', {
    get mqttUrl() {
      return config.mqttUrl ?? broker?.url ?? notReady();
    },
    get cameras() {
      return cameras ?? notReady();
    },
    get streams() {
      return (cameras ?? notReady()).default.streams;
    },
    get hlsFastAnswers() {
      return hlsFastPath.answered;
    },
    get egress() {
      return egress.workers;
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
    await clearLeftovers(config.hlsDir, scope.log);
    if (config.mqttUrl === undefined) {
      broker = await EmbeddedBroker.start(config.embeddedBrokerHost, config.embeddedBrokerPort, scope.log, {
        username: config.mqttUsername,
        password: config.mqttPassword,
      });
    }
    connection = new MqttConnection({
      url: config.mqttUrl ?? broker!.url,
      username: config.mqttUsername,
      password: config.mqttPassword,
      tls: { caFile: config.mqttCaFile, certFile: config.mqttCertFile, keyFile: config.mqttKeyFile },
      discovery: config.cameraDiscovery,
      will: homeAssistantWill(config),
      logger: scope.log,
    });
    // Every camera's recordings, indexed from disk (a crash's open ones closed), then retention.
    const recordingStore = new RecordingStore(config.recordDir, scope.log);
    await recordingStore.scan();
    retention = new Retention({
      store: recordingStore,
      policy: { keepDays: config.recordKeepDays, minFree: config.recordMinFree },
      logger: scope.log,
    });
    await retention.start();
    cameras = new CameraRegistry({ config, connection, logger: scope.log, recordingStore });
    if (config.haDiscovery) {
      homeAssistant = new HomeAssistantDiscovery({ config, connection, cameras, logger: scope.log });
    }
    // Answer the first requests knowing the cameras' retained statuses, if the broker is there;
    // if it is not, the service still starts (and reconnects by itself).
    try {
      await connection.whenSubscribed(AbortSignal.timeout(3000));
    } catch {
      scope.log.warn({ url: connection.brokerUrl }, 'the MQTT broker is not reachable yet; carrying on');
    }

    streamRoutes(scope, cameras.default);
    cameraRoutes(scope, cameras);
    eventRoutes(scope, cameras, { heartbeatMs: options.sseHeartbeatMs ?? 15_000 });
    metricsRoutes(scope, cameras, () => egress.workers);
    pictureRoutes(scope, cameras);
    recordingRoutes(scope, { store: recordingStore, ffmpegPath: config.ffmpegPath });
    if (config.webrtc) await scope.register(whepRoutes, { registry: cameras });
    await scope.register(hlsRoutes, { hlsDir: config.hlsDir, registry: cameras });
    const registry = cameras;
    hlsFastPath = createHlsFastPath({
      // Closing: Fastify answers (its 503 to new requests), as it answers everything then.
      registry: () => (closing ? undefined : registry),
      securityHeaders: hlsHeaders,
      door,
      defaultCameraId: config.cameraId,
      log: scope.log,
    });
    await scope.register(clientRoutes, { clientDir: config.clientDir });
  });

  // Shutdown, in order: stop taking work (a waiting start answers 503 so the server can drain),
  // then once the server is closed: stop every stream, close the MQTT connection, close the broker.
  app.addHook('preClose', async () => {
    closing = true;
    // Starts fail, blocked playlist and part requests answer now, so the server can drain.
    cameras?.refuseNewWork();
  });
  // LL-HLS egress processes (HLS_WORKERS): their hooks after this preClose, which ends held requests.
  egress = installEgress(app, {
    count: config.hlsWorkers,
    cameras: () => cameras,
    defaultCameraId: config.cameraId,
    baseHeaders: hlsHeaders && hlsBaseHeaders(hlsHeaders),
    tokensRequired: door.tokens.required,
  });
  closeUnusedConnectionsOnShutdown(app);
  app.addHook('onClose', async () => {
    retention?.close();
    await cameras?.close();
    // Its goodbye (`offline`) goes out with what else is in flight when the connection closes.
    homeAssistant?.close();
    await connection?.close();
    await broker?.close();
  });

  return app;
}
