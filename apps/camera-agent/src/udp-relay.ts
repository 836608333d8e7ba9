/**
 * The agent's side of the encoder's output: a UDP socket on 127.0.0.1:<ephemeral> that receives the
 * encoder's MPEG-TS datagrams and sends each one, unchanged, to the target. Because every byte
 * passes through here, the agent knows when data starts and stops, whatever the source.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { TS_PACKET_SIZE, formatUdpTarget, type UdpTarget } from '@camstream/protocol';
import type { Logger } from './logger.js';
import { RateLimiter } from './rate-limit.js';

const TS_SYNC_BYTE = 0x47;

export interface RelayStats {
  /** Datagrams relayed to the target. */
  readonly relayed: number;
  readonly bytes: number;
  /** Datagrams that were not MPEG-TS (another local process writing to our port), not relayed. */
  readonly dropped: number;
  readonly sendErrors: number;
}

interface Destination {
  readonly socket: Socket;
  readonly address: string;
  readonly port: number;
  readonly label: string;
}

export class UdpRelay {
  /** The loopback port the encoder sends to. */
  readonly port: number;
  readonly #input: Socket;
  readonly #logger: Logger;
  readonly #onDatagram: () => void;
  readonly #errorLog = new RateLimiter(1, 10_000);
  #destination: Destination;
  #stats = { relayed: 0, bytes: 0, dropped: 0, sendErrors: 0 };
  #closed: Promise<void> | undefined;

  private constructor(input: Socket, destination: Destination, logger: Logger, onDatagram: () => void) {
    this.#input = input;
    this.port = input.address().port;
    this.#destination = destination;
    this.#logger = logger;
    this.#onDatagram = onDatagram;
    input.on('message', (message) => this.#relay(message));
    // A receive error on a bound UDP socket is not fatal to the stream; log it and carry on.
    input.on('error', (err) => logger.warn('loopback socket error', { err }));
  }

  /** Binds 127.0.0.1:0 and resolves the target once (not per datagram). */
  static async open(target: UdpTarget, logger: Logger, onDatagram: () => void): Promise<UdpRelay> {
    const destination = await UdpRelay.#connectTo(target, logger);
    const input = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        input.once('error', reject);
        input.bind(0, '127.0.0.1', () => {
          input.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      destination.socket.close();
      throw err;
    }
    return new UdpRelay(input, destination, logger, onDatagram);
  }

  static async #connectTo(target: UdpTarget, logger: Logger): Promise<Destination> {
    const { address, family } = await lookup(target.host);
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    socket.on('error', (err) => logger.warn('relay socket error', { err }));
    return { socket, address, port: target.port, label: formatUdpTarget(target) };
  }

  get target(): string {
    return this.#destination.label;
  }

  get stats(): RelayStats {
    return { ...this.#stats };
  }

  /** Sends from now on to `target`; the encoder keeps running. */
  async retarget(target: UdpTarget): Promise<void> {
    const next = await UdpRelay.#connectTo(target, this.#logger);
    const previous = this.#destination;
    this.#destination = next;
    previous.socket.close();
  }

  close(): Promise<void> {
    this.#closed ??= Promise.all([
      new Promise<void>((resolve) => this.#input.close(() => resolve())),
      new Promise<void>((resolve) => this.#destination.socket.close(() => resolve())),
    ]).then(() => undefined);
    return this.#closed;
  }

  #relay(message: Buffer): void {
    if (message.length === 0 || message.length % TS_PACKET_SIZE !== 0 || message[0] !== TS_SYNC_BYTE) {
      this.#stats.dropped++;
      return;
    }
    const { socket, address, port, label } = this.#destination;
    socket.send(message, port, address, (err) => {
      if (!err) return;
      this.#stats.sendErrors++;
      const { allowed, suppressed } = this.#errorLog.take();
      if (allowed) this.#logger.warn(`cannot send to ${label}`, { err, suppressed });
    });
    this.#stats.relayed++;
    this.#stats.bytes += message.length;
    this.#onDatagram();
  }
}
