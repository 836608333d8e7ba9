/**
 * The UDP ports handed to discovered cameras: the lowest free one of UDP_PORT_RANGE, never one a
 * configured camera listens on. A port is free again once its camera is forgotten.
 */
import type { PortRange } from './settings.js';

export class PortPool {
  readonly #range: PortRange;
  readonly #taken = new Set<number>();

  /** `reserved`: ports of configured cameras inside the range. */
  constructor(range: PortRange, reserved: Iterable<number> = []) {
    this.#range = range;
    for (const port of reserved) this.#taken.add(port);
  }

  /** The lowest free port, taken; undefined when every port of the range is in use. */
  take(): number | undefined {
    for (let port = this.#range.first; port <= this.#range.last; port++) {
      if (this.#taken.has(port)) continue;
      this.#taken.add(port);
      return port;
    }
    return undefined;
  }

  release(port: number): void {
    this.#taken.delete(port);
  }

  get size(): number {
    return this.#range.last - this.#range.first + 1;
  }
}
