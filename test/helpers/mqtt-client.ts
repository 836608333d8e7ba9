/**
 * An mqtt.js client for tests that publish many payloads (fast-check) and read the replies in order:
 * one connection, every message on `filter` kept with its arrival index and RETAIN flag.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import type { Cleanup } from './cleanup.js';
import { MessageLog } from './message-log.js';

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
  const log = new MessageLog<Received>();
  client.on('message', (topic, payload, packet) => log.push({ topic, payload, retain: packet.retain }));
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    client,
    messages: log.messages,
    next(match, { from = 0, timeoutMs = 5000 } = {}) {
      return log.next(match, { from, timeoutMs }, (seen) => {
        const shown = seen.map((m) => `${m.topic} ${m.payload.toString().slice(0, 200)}`);
        return `no matching message on ${filter} after #${from}: ${shown.join(' | ')}`;
      });
    },
    async publish(topic, payload, { retain = false } = {}) {
      await client.publishAsync(topic, Buffer.from(payload), { qos: 1, retain });
    },
  };
}
