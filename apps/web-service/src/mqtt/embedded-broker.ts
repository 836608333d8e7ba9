/**
 * The embedded MQTT broker (aedes on a TCP server), used when MQTT_URL is unset: the demo needs no
 * separate broker. Tests and deployments use Mosquitto.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import type { FastifyBaseLogger } from 'fastify';

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
  static async start(host: string, port: number, logger: FastifyBaseLogger): Promise<EmbeddedBroker> {
    const aedes = await Aedes.createBroker();
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
