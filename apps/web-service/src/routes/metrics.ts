/**
 * GET /metrics: Prometheus text format (prom-client). The process (CPU, memory, file descriptors,
 * event-loop lag), the stream's state and, in LL-HLS mode, what the packager holds. One registry per
 * app instance, so tests that build several apps do not share gauges.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { UdpIngest } from '../ingest/udp-ingest.js';
import type { LlHlsPackager } from '../llhls/packager.js';
import type { StreamManager } from '../stream/stream-manager.js';

export function metricsRoutes(
  app: FastifyInstance,
  { streams, ingest, packager }: { streams: StreamManager; ingest?: UdpIngest; packager?: LlHlsPackager },
): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'camstream_' });
  new Gauge({
    name: 'camstream_stream_live',
    help: '1 while the stream is live, else 0',
    registers: [registry],
    collect() {
      this.set(streams.state === 'live' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'camstream_input_silent',
    help: '1 while the stream is live but no video arrives from the camera (INPUT_SILENCE_MS), else 0',
    registers: [registry],
    collect() {
      this.set(streams.info().input?.state === 'silent' ? 1 : 0);
    },
  });
  if (ingest) ingestCounters(registry, ingest);
  if (packager) {
    const gauges: [string, string, (stats: ReturnType<LlHlsPackager['stats']>) => number][] = [
      [
        'camstream_llhls_bytes_held',
        'bytes of media the LL-HLS packager holds (init, parts, segments)',
        (s) => s.bytesHeld,
      ],
      [
        'camstream_llhls_segments_held',
        'complete segments held (listed, and as many again)',
        (s) => s.segmentsHeld,
      ],
      ['camstream_llhls_parts_held', 'parts held', (s) => s.partsHeld],
      ['camstream_llhls_parts_made', 'parts made since the service started', (s) => s.partsMade],
      [
        'camstream_llhls_gaps',
        'gaps in the camera’s stream since the service started, each continued after a discontinuity',
        (s) => s.gaps,
      ],
      [
        'camstream_llhls_waiting_requests',
        'blocking playlist and part requests being held',
        (s) => s.waiting,
      ],
    ];
    for (const [name, help, read] of gauges) {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read(packager.stats()));
        },
      });
    }
  }
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
}

/** What the ingest received and dropped, by reason (ingest/ts-filter.ts says what each means). */
function ingestCounters(registry: Registry, ingest: UdpIngest): void {
  // prom-client counters only go up: each collect adds what the ingest counted since the last one.
  const counter = <L extends string>(
    name: string,
    help: string,
    read: (stats: ReturnType<UdpIngest['stats']>) => [labels: Partial<Record<L, string>>, value: number][],
    labelNames: readonly L[] = [],
  ) => {
    const reported = new Map<string, number>();
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const [labels, value] of read(ingest.stats())) {
          const key = JSON.stringify(labels);
          const delta = value - (reported.get(key) ?? 0);
          reported.set(key, value);
          if (labelNames.length > 0) this.inc(labels, delta);
          else this.inc(delta);
        }
      },
    });
  };
  counter('camstream_ingest_datagrams_total', 'datagrams received on the camera’s UDP port', (s) => [
    [{}, s.datagrams],
  ]);
  counter(
    'camstream_ingest_datagrams_dropped_total',
    'datagrams dropped whole: not-ts (not whole 188-byte TS packets), source (not from UDP_SOURCES)',
    (s) => Object.entries(s.datagramsDropped).map(([reason, n]) => [{ reason }, n]),
    ['reason'],
  );
  counter(
    'camstream_ingest_packets_dropped_total',
    'TS packets dropped before the segmenter: bad-psi, bad-pes, timeline, other-pid, other-sender, before-keyframe',
    (s) => Object.entries(s.packetsDropped).map(([reason, n]) => [{ reason }, n]),
    ['reason'],
  );
  counter('camstream_ingest_packets_passed_total', 'TS packets passed on to the segmenter', (s) => [
    [{}, s.packetsPassed],
  ]);
  counter(
    'camstream_ingest_timelines_total',
    'streams accepted from a keyframe: the first, and each new sender or encoder restart after it',
    (s) => [[{}, s.timelines]],
  );
}
