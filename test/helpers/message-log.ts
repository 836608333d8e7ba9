/**
 * Messages as they arrive (from an MQTT client, mosquitto_sub…), and a wait for the first one that
 * matches: from an index on, woken by each new message, given up after a timeout with what was seen.
 */
export class MessageLog<T> {
  readonly messages: T[] = [];
  readonly #wakers = new Set<() => void>();

  push(message: T): void {
    this.messages.push(message);
    for (const wake of this.#wakers) wake();
  }

  /** The first message at index `from` or later that matches; `describe` words the timeout's error. */
  next(
    match: (message: T) => boolean,
    { from = 0, timeoutMs }: { from?: number; timeoutMs: number },
    describe: (seen: T[]) => string,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      let index = from;
      const check = () => {
        for (; index < this.messages.length; index++) {
          const message = this.messages[index]!;
          if (match(message)) {
            done();
            resolve(message);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${describe(this.messages.slice(from))} (within ${timeoutMs} ms)`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(check);
      };
      this.#wakers.add(check);
      check();
    });
  }
}
