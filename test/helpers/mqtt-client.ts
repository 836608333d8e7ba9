/**
 * An mqtt.js client for tests that publish many payloads (fast-check) and read the replies in order:
 * one connection, every message on `filter` kept with its arrival index and RETAIN flag.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import type { Cleanup } from './cleanup.js';

export interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
}

export interface MqttProbe {
  readonly client: MqttClient;
  /** Every message received so far, in arrival order. */
  readonly messages: readonly Received[];
  /** The first message at index `from` or later that matches, within `timeoutMs`. */
  next(
    match: (message: Received) => boolean,
    options?: { from?: number; timeoutMs?: number },
  ): Promise<Received>;
  publish(
    topic: string,
    payload: Buffer | Uint8Array | string,
    options?: { retain?: boolean },
  ): Promise<void>;
}

export async function mqttProbe(
  cleanup: Pick<Cleanup, 'add'>,
  url: string,
  filter: string,
): Promise<MqttProbe> {
  const client = await connectAsync(url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  // Many small packets, each waiting on the last one's reply: Nagle's algorithm would hold each one.
  (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
  cleanup.add(() => client.endAsync(true));
  const messages: Received[] = [];
  const wakers = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, retain: packet.retain });
    for (const wake of wakers) wake();
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    client,
    messages,
    next(match, { from = 0, timeoutMs = 5000 } = {}) {
      return new Promise((resolve, reject) => {
        let index = from;
        const check = () => {
          for (; index < messages.length; index++) {
            if (match(messages[index]!)) {
              done();
              resolve(messages[index]!);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          done();
          const seen = messages.slice(from).map((m) => `${m.topic} ${m.payload.toString().slice(0, 200)}`);
          reject(
            new Error(
              `no matching message on ${filter} within ${timeoutMs} ms; after #${from}: ${seen.join(' | ')}`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          wakers.delete(check);
        };
        wakers.add(check);
        check();
      });
    },
    async publish(topic, payload, { retain = false } = {}) {
      await client.publishAsync(topic, Buffer.from(payload), { qos: 1, retain });
    },
  };
}
