/**
 * The camera's UDP port, owned by the service (node:dgram): every datagram goes through the TsFilter,
 * and what it passes is handed on at once, datagram by datagram, to the segmenter's stdin. Open while
 * a stream runs (start to stop), across segmenter restarts; UDP_SOURCES is applied here.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { FastifyBaseLogger } from 'fastify';
import { parseUdpTarget } from '@camstream/protocol';
import { createError } from '../errors.js';
import { LogBudget } from '../log-budget.js';
import { udpPortHolders } from './port-holders.js';
import type { DatagramDrop, FilterStats, PacketDrop } from './drops.js';
import { TsFilter } from './ts-filter.js';

/** What the stream manager needs of the ingest (a fake in unit tests). */
export interface IngestLike {
  /** Binds the port; rejects with WEB_ERR_UDP_LISTEN_FAILED. Idempotent while open. */
  open(): Promise<void>;
  /** Releases the port. Idempotent. */
  close(): Promise<void>;
  /** Where the camera's stream goes, from its next keyframe on; undefined: nowhere. */
  setSink(sink: ((chunk: Buffer) => void) | undefined): void;
}

export interface UdpIngestOptions {
  /** `udp://host:port` (UDP_LISTEN). */
  readonly listen: string;
  /** Addresses the camera's datagrams may come from (UDP_SOURCES); empty: any. */
  readonly sources?: readonly string[];
  readonly logger: FastifyBaseLogger;
}

/** The kernel's receive buffer: ≈ 16 s of a 2 Mbps stream, for moments the event loop is busy. */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** `::ffff:1.2.3.4` (an IPv4 sender on a dual-stack socket) is 1.2.3.4. */
const plainAddress = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

export class UdpIngest implements IngestLike {
  readonly #listen: string;
  readonly #sources: ReadonlySet<string>;
  readonly #log: FastifyBaseLogger;
  readonly #filter: TsFilter;
  /** What is dropped is logged a few times per 10 s, then counted (GET /metrics has it all). */
  readonly #dropLog = new LogBudget(5, 10_000);
  #socket: Socket | undefined;
  #opening: Promise<void> | undefined;

  constructor(options: UdpIngestOptions) {
    this.#listen = options.listen;
    this.#sources = new Set((options.sources ?? []).map(plainAddress));
    this.#log = options.logger.child({ component: 'ingest' });
    this.#filter = new TsFilter({
      onTimeline: ({ sender, change }) => {
        const what = {
          first: 'the camera’s stream',
          sender: 'a new sender’s stream',
          restart: 'a new timeline',
        };
        this.#log.info({ sender, change }, `accepted ${what[change]} from its keyframe`);
      },
      onDrop: (reason, sender) => this.#onDrop(reason, sender),
    });
  }

  get listening(): boolean {
    return this.#socket !== undefined;
  }

  stats(): FilterStats {
    return this.#filter.stats();
  }

  setSink(sink: ((chunk: Buffer) => void) | undefined): void {
    this.#filter.setSink(sink);
  }

  open(): Promise<void> {
    this.#opening ??= this.#bind().catch((err: unknown) => {
      this.#opening = undefined;
      throw err;
    });
    return this.#opening;
  }

  async #bind(): Promise<void> {
    const { host, port } = parseUdpTarget(this.#listen);
    const socket = createSocket({
      type: host.includes(':') ? 'udp6' : 'udp4',
      recvBufferSize: RECEIVE_BUFFER_BYTES,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      let reason = (err as Error).message;
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        const holders = await udpPortHolders(port).catch(() => []);
        const who = holders.map((h) => `pid ${h.pid}: ${h.commandLine.slice(0, 120)}`).join('; ');
        reason = who ? `UDP port ${port} is held by ${who}` : `UDP port ${port} is in use`;
      }
      throw createError('WEB_ERR_UDP_LISTEN_FAILED', this.#listen, reason);
    }
    socket.on('error', (err) => this.#log.error({ err }, 'UDP socket error'));
    socket.on('message', (datagram, { address, port: senderPort }) => {
      const sender = `${address}:${senderPort}`;
      if (this.#sources.size > 0 && !this.#sources.has(plainAddress(address))) {
        this.#filter.refuse('source', sender);
      } else {
        this.#filter.push(datagram, sender);
      }
    });
    this.#socket = socket;
    this.#log.info({ listen: this.#listen }, 'listening for the camera');
  }

  async close(): Promise<void> {
    const opening = this.#opening;
    this.#opening = undefined;
    await opening?.catch(() => {});
    const socket = this.#socket;
    this.#socket = undefined;
    this.#filter.reset();
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  #onDrop(reason: PacketDrop | DatagramDrop, sender: string): void {
    // The camera's own packets before its first keyframe, and its SDT and null packets, are routine.
    if (reason === 'before-keyframe') return;
    if (reason === 'other-pid' && sender === this.#filter.acceptedSender) return;
    const { log, suppressedBefore } = this.#dropLog.spend();
    if (suppressedBefore > 0) {
      this.#log.warn({ suppressed: suppressedBefore }, 'ingest: more dropped input, not logged');
    }
    if (log) this.#log.warn({ reason, sender }, 'ingest: dropped UDP input that is not the camera’s stream');
  }
}
