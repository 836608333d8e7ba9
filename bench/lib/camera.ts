/** The camera seen over MQTT: its status messages timestamped on arrival, and commands to it. */
import { randomUUID } from 'node:crypto';
import { cameraTopics } from '@camstream/protocol';
import { connectAsync, type MqttClient } from 'mqtt';

export interface ObservedStatus {
  state: string;
  /** The agent's own `at` (epoch ms): for `streaming`, just after the encoder's first datagram. */
  at: number;
  /** Epoch ms the bench received it. */
  receivedAt: number;
}

export class CameraWatch {
  readonly statuses: ObservedStatus[] = [];
  readonly #client: MqttClient;
  readonly #topics: ReturnType<typeof cameraTopics>;
  readonly #wakers = new Set<() => void>();

  private constructor(client: MqttClient, cameraId: string) {
    this.#client = client;
    this.#topics = cameraTopics(cameraId);
    client.on('message', (topic, payload) => {
      if (topic !== this.#topics.status) return;
      try {
        const status = JSON.parse(payload.toString()) as { state?: string; at?: string };
        if (typeof status.state !== 'string') return;
        const at = Date.parse(status.at ?? '');
        this.statuses.push({
          state: status.state,
          at: Number.isFinite(at) ? at : Date.now(),
          receivedAt: Date.now(),
        });
        for (const wake of this.#wakers) wake();
      } catch {
        // not JSON: ignore (an empty retained message clears the status)
      }
    });
  }

  static async connect(url: string, cameraId: string): Promise<CameraWatch> {
    const client = await connectAsync(url, {
      protocolVersion: 4,
      clientId: `bench-${randomUUID().slice(0, 8)}`,
    });
    const watch = new CameraWatch(client, cameraId);
    await client.subscribeAsync(watch.#topics.status, { qos: 1 });
    return watch;
  }

  /** The first status in `state` received at or after `after` (epoch ms). */
  waitFor(state: string, after: number, timeoutMs: number): Promise<ObservedStatus> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.statuses.find((s) => s.state === state && s.receivedAt >= after);
        if (!found) return;
        this.#wakers.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#wakers.delete(check);
        const seen = this.statuses.map((s) => s.state).join(' → ') || 'nothing';
        reject(new Error(`the camera did not report ${state} within ${timeoutMs} ms (saw ${seen})`));
      }, timeoutMs);
      this.#wakers.add(check);
      check();
    });
  }

  /** Publishes a control command (QoS 1), as any MQTT client may. */
  async command(action: 'start' | 'stop'): Promise<void> {
    const payload = JSON.stringify({ id: `bench-${randomUUID()}`, action });
    await this.#client.publishAsync(this.#topics.control, payload, { qos: 1 });
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }
}
