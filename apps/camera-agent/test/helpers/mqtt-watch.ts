/** An MQTT client on the camera's topics, as the web service or a person with a client would use. */
import { connectAsync, type MqttClient } from 'mqtt';
import type { Cleanup } from '../../../../test/helpers/cleanup.js';
import { MessageLog } from '../../../../test/helpers/message-log.js';

export interface Received {
  readonly topic: string;
  readonly payload: Record<string, unknown>;
  readonly retained: boolean;
}

export interface Watcher {
  readonly client: MqttClient;
  readonly messages: Received[];
  /** The first message on `kind` matching `fields`, from index `from` of `messages` on (default 0). */
  next(
    kind: 'status' | 'events',
    fields: Record<string, unknown>,
    options?: { from?: number; timeoutMs?: number },
  ): Promise<Received>;
  statuses(): string[];
  events(): Record<string, unknown>[];
  command(payload: unknown, options?: { retain?: boolean }): Promise<void>;
}

const matches = (payload: Record<string, unknown>, fields: Record<string, unknown>) =>
  Object.entries(fields).every(([key, value]) =>
    value instanceof RegExp ? value.test(String(payload[key])) : payload[key] === value,
  );

export async function watchCamera(cleanup: Cleanup, brokerUrl: string, cameraId: string): Promise<Watcher> {
  const client = await connectAsync(brokerUrl, { protocolVersion: 4, clean: true, reconnectPeriod: 200 });
  cleanup.add(() => client.endAsync(true));
  const log = new MessageLog<Received>();
  const messages = log.messages;
  client.on('message', (topic, payload, packet) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      parsed = { raw: payload.toString() };
    }
    log.push({ topic, payload: parsed, retained: packet.retain });
  });
  await client.subscribeAsync([`cameras/${cameraId}/status`, `cameras/${cameraId}/events`], { qos: 1 });
  const topicOf = (kind: string) => `cameras/${cameraId}/${kind}`;
  return {
    client,
    messages,
    next(kind, fields, { from = 0, timeoutMs = 20_000 } = {}) {
      return log.next(
        (m) => m.topic === topicOf(kind) && matches(m.payload, fields),
        { from, timeoutMs },
        () => `no ${kind} message like ${JSON.stringify(fields)}; got ${JSON.stringify(messages)}`,
      );
    },
    statuses: () => messages.filter((m) => m.topic === topicOf('status')).map((m) => String(m.payload.state)),
    events: () => messages.filter((m) => m.topic === topicOf('events')).map((m) => m.payload),
    async command(payload, { retain = false } = {}) {
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      await client.publishAsync(topicOf('control'), body, { qos: 1, retain });
    },
  };
}
