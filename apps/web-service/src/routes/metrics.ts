/**
 * GET /metrics: Prometheus text format (prom-client). The process (CPU, memory, file descriptors,
 * event-loop lag), the stream's state and, in LL-HLS mode, what the packager holds. One registry per
 * app instance, so tests that build several apps do not share gauges.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { LlHlsPackager } from '../llhls/packager.js';
import type { StreamManager } from '../stream/stream-manager.js';

export function metricsRoutes(
  app: FastifyInstance,
  { streams, packager }: { streams: StreamManager; packager?: LlHlsPackager },
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
