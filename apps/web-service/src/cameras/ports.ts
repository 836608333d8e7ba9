/**
 * The UDP ports handed to discovered cameras: the lowest free one of UDP_PORT_RANGE, never one a
 * configured camera listens on. A port is free again once its camera is forgotten.
 */
import { createError } from '../errors.js';
import type { PortRange } from './settings.js';

export class PortPool {
  readonly #range: PortRange;
  /** Ports of configured cameras: never handed out, never freed. */
  readonly #reserved = new Set<number>();
  /** Ports handed out by take() and not released since. */
  readonly #taken = new Set<number>();

  /** `reserved`: ports of configured cameras (those outside the range change nothing). */
  constructor(range: PortRange, reserved: Iterable<number> = []) {
    this.#range = range;
    for (const port of reserved) this.#reserved.add(port);
  }

  /** The lowest free port, taken. Throws WEB_ERR_PORTS_EXHAUSTED when every port of the range is in use. */
  take(): number {
    for (let port = this.#range.first; port <= this.#range.last; port++) {
      if (this.#taken.has(port) || this.#reserved.has(port)) continue;
      this.#taken.add(port);
      return port;
    }
    throw createError('WEB_ERR_PORTS_EXHAUSTED', `${this.#range.first}-${this.#range.last}`, this.size);
  }

  /** Frees a port take() handed out; any other port (reserved, never taken, freed already) is left as it is. */
  release(port: number): void {
    this.#taken.delete(port);
  }

  /** How many ports the range holds (reserved ones included). */
  get size(): number {
    return this.#range.last - this.#range.first + 1;
  }

  /** Ports handed out and not released. */
  get inUse(): number {
    return this.#taken.size;
  }
}
