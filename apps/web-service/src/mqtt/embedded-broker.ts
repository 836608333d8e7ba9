/**
 * The embedded MQTT broker (aedes on a TCP server), used when MQTT_URL is unset: the demo needs no
 * separate broker. Tests and deployments use Mosquitto.
 *
 * With MQTT_USERNAME and MQTT_PASSWORD it accepts only that user (the service itself, the agents,
 * tools). Without them it accepts anyone, so it refuses to listen on anything but loopback.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import type { FastifyBaseLogger } from 'fastify';
import { createError } from '../errors.js';
import { isLoopback } from '../loopback.js';
import { EMBEDDED_BROKER_NEEDS_CREDENTIALS } from './settings.js';

export interface EmbeddedBrokerCredentials {
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

/** CONNACK return code 4 (aedes's AuthErrorCode is a const enum, not usable at run time). */
const BAD_USERNAME_OR_PASSWORD = 4;

/** Compared in constant time: digests make the lengths equal. */
function same(given: Buffer | string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (value: Buffer | string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export class EmbeddedBroker {
  readonly #aedes: Aedes;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #closing: Promise<void> | undefined;

  private constructor(aedes: Aedes, server: Server) {
    this.#aedes = aedes;
    this.#server = server;
  }

  /** Starts listening on host:port (port 0: any free port; see `port`). */
  static async start(
    host: string,
    port: number,
    logger: FastifyBaseLogger,
    credentials: EmbeddedBrokerCredentials = {},
  ): Promise<EmbeddedBroker> {
    const { username, password } = credentials;
    const secured = username !== undefined && password !== undefined;
    if (!secured && !isLoopback(host)) {
      throw createError(
        'WEB_ERR_CONFIG',
        `EMBEDDED_BROKER_HOST=${host}: ${EMBEDDED_BROKER_NEEDS_CREDENTIALS}`,
      );
    }
    const aedes = await Aedes.createBroker({
      ...(secured && {
        authenticate: (client, givenUser, givenPassword, done) => {
          if (same(givenUser, username) && same(givenPassword, password)) return done(null, true);
          logger.warn(
            { client: client.id, username: givenUser },
            'embedded broker: refused a client (bad user name or password)',
          );
          const error = Object.assign(new Error('bad user name or password'), {
            returnCode: BAD_USERNAME_OR_PASSWORD,
          });
          return done(error as Parameters<typeof done>[0], false);
        },
      }),
    });
    aedes.on('clientError', (client, err) => logger.debug({ client: client.id, err }, 'MQTT client error'));
    aedes.on('connectionError', (_client, err) => logger.debug({ err }, 'MQTT connection error'));
    // noDelay: a command is one small packet; with Nagle's algorithm it waits for the ACK of the
    // previous one (delayed ACKs: ~40 ms a hop on Linux).
    const server = createServer({ noDelay: true }, aedes.handle);
    const broker = new EmbeddedBroker(aedes, server);
    server.on('connection', (socket) => {
      broker.#sockets.add(socket);
      socket.once('close', () => broker.#sockets.delete(socket));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw err;
    }
    logger.info({ url: broker.url }, 'embedded MQTT broker listening');
    return broker;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    const { address, family, port } = this.#server.address() as AddressInfo;
    return `mqtt://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  }

  /** Disconnects every client and stops listening. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
      // aedes ends its clients' streams; a peer that never answers must not hold the shutdown.
      for (const socket of this.#sockets) socket.destroy();
      await serverClosed;
    })();
    return this.#closing;
  }
}
