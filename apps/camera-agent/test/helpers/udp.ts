/** A UDP listener standing in for the web service's segmenter: collects what the agent relays. */
import { createSocket } from 'node:dgram';
import type { Cleanup } from '../../../../test/helpers/cleanup.js';
import { waitFor } from '../../../../test/helpers/wait.js';

export interface UdpListener {
  readonly port: number;
  readonly target: string;
  readonly datagrams: Buffer[];
  /** Date.now() when each datagram arrived (same index as `datagrams`). */
  readonly arrivals: number[];
  /** Resolves once `count` more datagrams than now have arrived. */
  waitForMore(count: number, timeoutMs?: number): Promise<Buffer[]>;
  close(): Promise<void>;
}

export async function listenUdp(cleanup: Cleanup): Promise<UdpListener> {
  const socket = createSocket('udp4');
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= new Promise<void>((resolve) => socket.close(() => resolve())));
  cleanup.add(close);
  const datagrams: Buffer[] = [];
  const arrivals: number[] = [];
  socket.on('message', (message) => {
    datagrams.push(message);
    arrivals.push(Date.now());
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return {
    port,
    target: `udp://127.0.0.1:${port}`,
    datagrams,
    arrivals,
    async waitForMore(count, timeoutMs = 15_000) {
      const from = datagrams.length;
      await waitFor(`${count} datagrams on port ${port}`, () => datagrams.length >= from + count, {
        timeoutMs,
      });
      return datagrams.slice(from, from + count);
    },
    close,
  };
}
