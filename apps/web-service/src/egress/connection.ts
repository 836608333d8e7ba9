/**
 * One client connection in an egress worker: requests read one at a time (the next once the
 * answer is written), each answered or held by the mirror, or the connection handed back to the
 * service with every byte read from it (`handOff`): then it is the service's for good.
 */
import type { Socket } from 'node:net';
import type { Hold, Mirror, Requester } from './mirror.js';
import { readRequestHead } from './request-head.js';

/** A head that stays incomplete this long goes to the service, which has its own timeouts. */
const PARTIAL_HEAD_MS = 2000;
const EMPTY = Buffer.alloc(0);

export interface ConnectionOptions {
  readonly mirror: Mirror;
  /** Node's keepAliveTimeout: an idle connection is closed after it. */
  readonly keepAliveTimeoutMs: number;
  /** Counts a hand-off the mirror did not decide, by why. */
  readonly refused: (reason: string) => void;
  /** Sends the socket and the bytes read to the service; false if it cannot (the worker stops). */
  readonly handOff: (socket: Socket, head: Buffer) => boolean;
}

export class Connection implements Requester {
  readonly #socket: Socket;
  readonly #options: ConnectionOptions;
  #buffer: Buffer = EMPTY;
  /** The request being answered or held: its bytes go with the connection if it is handed off. */
  #request: Buffer = EMPTY;
  /** A request is being held or its answer written: nothing more is read until it is sent. */
  #busy = false;
  held: Hold | undefined;
  #gone = false;
  /** The worker stops: the connection closes after the answer in progress. */
  #ending = false;

  constructor(socket: Socket, options: ConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    socket.on('data', this.#onData);
    socket.on('timeout', this.#onTimeout);
    socket.on('error', () => {}); // a reset client: 'close' follows
    socket.once('close', this.#onClose);
    socket.setTimeout(options.keepAliveTimeoutMs);
  }

  get idle(): boolean {
    return !this.#busy && this.#buffer.length === 0;
  }

  /** The worker stops: idle now, closed; busy, closed after its answer. */
  end(): void {
    this.#ending = true;
    if (!this.#busy) this.#socket.destroy();
  }

  respond(head: Buffer, body: Buffer): void {
    this.held = undefined;
    this.#request = EMPTY;
    if (this.#gone) return;
    const socket = this.#socket;
    socket.cork();
    socket.write(head);
    socket.write(body, this.#written);
    socket.uncork();
  }

  readonly #written = (err?: Error | null): void => {
    if (err || this.#gone) return;
    this.#busy = false;
    if (this.#ending) return void this.#socket.destroy();
    this.#socket.setTimeout(this.#options.keepAliveTimeoutMs);
    this.#next();
  };

  readonly #onData = (chunk: Buffer): void => {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (!this.#busy) this.#next();
  };

  #next(): void {
    const verdict = readRequestHead(this.#buffer);
    if (verdict.kind === 'incomplete') {
      if (this.#buffer.length > 0) this.#socket.setTimeout(PARTIAL_HEAD_MS);
      return;
    }
    if (verdict.kind === 'hand-off' || this.#ending) {
      this.#options.refused(this.#ending ? 'stopping' : 'request');
      return this.#handOff();
    }
    this.#busy = true;
    this.#socket.setTimeout(0);
    this.#request = this.#buffer.subarray(0, verdict.length);
    this.#buffer = this.#buffer.subarray(verdict.length);
    if (!this.#options.mirror.handle(this, verdict.url)) this.handOff();
  }

  /** The request being read or held, and what follows it, go to the service with the socket. */
  handOff(): void {
    this.held = undefined;
    this.#busy = false;
    if (this.#gone) return;
    this.#buffer = this.#buffer.length === 0 ? this.#request : Buffer.concat([this.#request, this.#buffer]);
    this.#request = EMPTY;
    this.#handOff();
  }

  /** Idle past keepAliveTimeout (closed, as Node does), or a head that does not come (the service's). */
  readonly #onTimeout = (): void => {
    if (this.#busy) return;
    if (this.#buffer.length === 0) return void this.#socket.destroy();
    this.#options.refused('slow-head');
    this.#handOff();
  };

  readonly #onClose = (): void => {
    this.#gone = true;
    if (this.held) this.#options.mirror.cancel(this.held);
    this.held = undefined;
  };

  #handOff(): void {
    const socket = this.#socket;
    socket.off('data', this.#onData);
    socket.off('timeout', this.#onTimeout);
    const head = detach(socket, this.#buffer);
    this.#buffer = EMPTY;
    this.#gone = true;
    if (!this.#options.handOff(socket, head)) socket.destroy();
  }
}

/**
 * Stops `socket` reading and returns `read` followed by every byte Node read from it and has not
 * emitted: what goes to the service with the socket. Every hand-off must go through here, the one
 * of a connection never read from too: Node's server starts reading each new socket at once, and
 * what it reads into the socket's buffer (or reads after process.send() has taken the handle, until
 * the service's ACK closes it here) would be lost, the client's first request left unanswered.
 */
function detach(socket: Socket, read: Buffer = EMPTY): Buffer {
  socket.pause();
  socket.setTimeout(0);
  const chunks = [read];
  while (socket.readableLength > 0) chunks.push(socket.read() as Buffer);
  // No more reads here until the handle is gone: what the client sends next is the service's to
  // read (Node's own pause() does this only for sockets with an `onread` buffer).
  const handle = (socket as unknown as { _handle?: { reading: boolean; readStop(): number } })._handle;
  if (handle) {
    handle.reading = false;
    handle.readStop();
  }
  return chunks.length === 1 ? read : Buffer.concat(chunks);
}
