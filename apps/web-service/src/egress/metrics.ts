/**
 * /metrics for HLS_WORKERS: each running egress worker's counters (label `pid`), read over IPC at
 * each scrape; a worker that was replaced takes its series with it.
 */
import { Gauge, type Registry } from 'prom-client';
import type { WorkerStats } from './messages.js';
import type { EgressWorkers } from './workers.js';

const GAUGES: [name: string, help: string, read: (stats: WorkerStats) => number][] = [
  ['camstream_egress_answers', 'LL-HLS answers the egress worker wrote since it started', (s) => s.answered],
  ['camstream_egress_waiting_requests', 'blocking requests the egress worker holds', (s) => s.held],
  ['camstream_egress_connections', 'connections the egress worker has open', (s) => s.connections],
  [
    'camstream_egress_paused',
    'times the egress worker stopped accepting connections at its fair share, since it started',
    (s) => s.paused,
  ],
];

export function egressMetrics(registry: Registry, workers: () => EgressWorkers | undefined): void {
  // One IPC round trip per worker and scrape: prom-client collects every gauge at once, and each
  // gauge's collect shares the request in flight.
  let asking: Promise<WorkerStats[]> | undefined;
  const stats = (): Promise<WorkerStats[]> =>
    (asking ??= (workers()?.stats() ?? Promise.resolve([])).finally(() => (asking = undefined)));
  for (const [name, help, read] of GAUGES) {
    new Gauge({
      name,
      help,
      labelNames: ['pid'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const worker of await stats()) this.set({ pid: String(worker.pid) }, read(worker));
      },
    });
  }
  new Gauge({
    name: 'camstream_egress_handed_off',
    help: 'requests the egress worker handed back to the service since it started, by why',
    labelNames: ['pid', 'reason'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const worker of await stats())
        for (const [reason, count] of Object.entries(worker.handedOffBy))
          this.set({ pid: String(worker.pid), reason }, count);
    },
  });
}
