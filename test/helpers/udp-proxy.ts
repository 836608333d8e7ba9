/**
 * A UDP hop between the camera agent and the web service, for faults on the network path: the agent
 * sends to the proxy, the proxy forwards every datagram unchanged to the service, unless it has been
 * told to drop them (a Wi-Fi drop, a cable pulled for a few seconds). Real sockets on loopback; the
 * datagrams that are dropped really never arrive.
 */
import { createSocket } from 'node:dgram';
import type { Cleanup } from './cleanup.js';

export interface UdpProxy {
  /** Where the agent sends (udp://127.0.0.1:<port>). */
  readonly port: number;
  readonly url: string;
  /** Datagrams forwarded and dropped so far. */
  readonly stats: { readonly forwarded: number; readonly dropped: number };
  /** Wall-clock ms of the last datagram that arrived from the agent (forwarded or not). */
  readonly lastArrivalMs: number;
  /** Drops everything from now until `restore()`. */
  cut(): void;
  /** Forwards again. */
  restore(): void;
  close(): Promise<void>;
}

export async function startUdpProxy(cleanup: Cleanup, targetPort: number): Promise<UdpProxy> {
  const input = createSocket('udp4');
  const output = createSocket('udp4');
  const stats = { forwarded: 0, dropped: 0 };
  let cut = false;
  let lastArrivalMs = 0;
  input.on('message', (datagram) => {
    lastArrivalMs = Date.now();
    if (cut) {
      stats.dropped += 1;
      return;
    }
    stats.forwarded += 1;
    output.send(datagram, targetPort, '127.0.0.1');
  });
  // Sends to a port nobody listens on (the service between segmenters) fail quietly, as UDP does.
  output.on('error', () => {});
  await new Promise<void>((resolve) => input.bind(0, '127.0.0.1', resolve));
  const { port } = input.address();
  let closed: Promise<void> | undefined;
  const proxy: UdpProxy = {
    port,
    url: `udp://127.0.0.1:${port}`,
    stats,
    get lastArrivalMs() {
      return lastArrivalMs;
    },
    cut: () => void (cut = true),
    restore: () => void (cut = false),
    close() {
      closed ??= Promise.all([
        new Promise<void>((resolve) => input.close(() => resolve())),
        new Promise<void>((resolve) => output.close(() => resolve())),
      ]).then(() => undefined);
      return closed;
    },
  };
  cleanup.add(() => proxy.close());
  return proxy;
}
