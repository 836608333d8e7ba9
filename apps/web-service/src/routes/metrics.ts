/**
 * GET /metrics: Prometheus text format (prom-client). The process (CPU, memory, file descriptors,
 * event-loop lag), and for each camera (label `camera`) its stream's state, what its ingest received
 * and dropped, what each of its outputs dropped (label `output`) and, in LL-HLS mode, what its
 * packager holds, and its WebRTC viewers and what they were sent; with HLS_WORKERS, each egress
 * worker's counters (egress/metrics.ts). One registry per app instance, so tests that build several
 * apps do not share gauges. A forgotten camera's series go with it.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Camera } from '../cameras/camera.js';
import type { CameraRegistry } from '../cameras/registry.js';
import type { UdpIngest } from '../ingest/udp-ingest.js';
import type { LlHlsPackager } from '../outputs/ll-hls/packager.js';
import type { WebRtcStats } from '../outputs/webrtc/output.js';
import { picturesMetrics } from '../outputs/pictures/metrics.js';
import { egressMetrics } from '../egress/metrics.js';
import type { EgressWorkers } from '../egress/workers.js';

type PackagerStats = ReturnType<LlHlsPackager['stats']>;
type IngestStats = ReturnType<UdpIngest['stats']>;

/** A gauge per camera, read from it at each scrape (so a forgotten camera's series is gone). */
function cameraGauge(
  registry: Registry,
  cameras: CameraRegistry,
  name: string,
  help: string,
  read: (camera: Camera) => number | undefined,
): void {
  new Gauge({
    name,
    help,
    labelNames: ['camera'],
    registers: [registry],
    collect() {
      this.reset();
      for (const camera of cameras.list()) {
        const value = read(camera);
        if (value !== undefined) this.set({ camera: camera.id }, value);
      }
    },
  });
}

export function metricsRoutes(
  app: FastifyInstance,
  cameras: CameraRegistry,
  egress: () => EgressWorkers | undefined = () => undefined,
): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'camstream_' });
  cameraGauge(registry, cameras, 'camstream_cameras', 'cameras the service serves (1 per camera)', () => 1);
  cameraGauge(registry, cameras, 'camstream_stream_live', '1 while the stream is live, else 0', (camera) =>
    camera.streams.state === 'live' ? 1 : 0,
  );
  cameraGauge(
    registry,
    cameras,
    'camstream_input_silent',
    '1 while the stream is live but no video arrives from the camera (INPUT_SILENCE_MS), else 0',
    (camera) => (camera.info().input?.state === 'silent' ? 1 : 0),
  );
  const packagerGauges: [string, string, (stats: PackagerStats) => number][] = [
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
    ['camstream_llhls_waiting_requests', 'blocking playlist and part requests being held', (s) => s.waiting],
  ];
  for (const [name, help, read] of packagerGauges) {
    cameraGauge(registry, cameras, name, help, (camera) =>
      camera.packager ? read(camera.packager.stats()) : undefined,
    );
  }
  cameraGauge(
    registry,
    cameras,
    'camstream_webrtc_sessions',
    'WebRTC (WHEP) sessions open now, negotiating included',
    (camera) => camera.webrtc?.stats().sessions,
  );
  cameraCounters(registry, cameras);
  picturesMetrics(registry, cameras);
  egressMetrics(registry, egress);
  app.get('/metrics', { logLevel: 'warn', config: { access: 'metrics' } }, async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
}

/**
 * What the ingest received and dropped, by reason (ingest/ts-filter.ts says what each means), and
 * what each output dropped or failed to take (outputs/queued.ts).
 */
function cameraCounters(registry: Registry, cameras: CameraRegistry): void {
  const counters: Counter<string>[] = [];
  cameras.on('removed', (cameraId) => {
    for (const counter of counters) counter.remove({ camera: cameraId });
  });
  // prom-client counters only go up: each collect adds what each ingest counted since the last one.
  const counter = (
    name: string,
    help: string,
    read: (camera: Camera) => [labels: Record<string, string>, value: number][],
    labelNames: readonly string[] = [],
  ) => {
    const reported = new WeakMap<Camera, Map<string, number>>();
    const made = new Counter<string>({
      name,
      help,
      labelNames: ['camera', ...labelNames],
      registers: [registry],
      collect() {
        for (const camera of cameras.list()) {
          let seen = reported.get(camera);
          if (!seen) reported.set(camera, (seen = new Map()));
          for (const [labels, value] of read(camera)) {
            const key = JSON.stringify(labels);
            const delta = value - (seen.get(key) ?? 0);
            seen.set(key, value);
            this.inc({ camera: camera.id, ...labels }, delta);
          }
        }
      },
    });
    counters.push(made);
  };
  const ingest =
    (read: (stats: IngestStats) => [labels: Record<string, string>, value: number][]) => (camera: Camera) =>
      read(camera.ingest.stats());
  counter(
    'camstream_ingest_datagrams_total',
    'datagrams received on the camera’s UDP port',
    ingest((s) => [[{}, s.datagrams]]),
  );
  counter(
    'camstream_ingest_datagrams_dropped_total',
    'datagrams dropped whole: not-ts (not whole 188-byte TS packets), source (not from UDP_SOURCES)',
    ingest((s) => Object.entries(s.datagramsDropped).map(([reason, n]) => [{ reason }, n])),
    ['reason'],
  );
  counter(
    'camstream_ingest_packets_dropped_total',
    'TS packets dropped before the segmenter: bad-psi, bad-pes, timeline, other-pid, other-sender, before-keyframe',
    ingest((s) => Object.entries(s.packetsDropped).map(([reason, n]) => [{ reason }, n])),
    ['reason'],
  );
  counter(
    'camstream_ingest_packets_passed_total',
    'TS packets passed on to the segmenter',
    ingest((s) => [[{}, s.packetsPassed]]),
  );
  counter(
    'camstream_ingest_timelines_total',
    'streams accepted from a keyframe: the first, and each new sender or encoder restart after it',
    ingest((s) => [[{}, s.timelines]]),
  );
  counter(
    'camstream_output_dropped_frames_total',
    'frames an output did not get because it fell behind (dropped up to the next keyframe)',
    (camera) =>
      camera.streams.outputStats().map(({ name, stats }) => [{ output: name }, stats.droppedFrames]),
    ['output'],
  );
  counter(
    'camstream_output_errors_total',
    'deliveries to an output that threw or failed (the other outputs went on)',
    (camera) => camera.streams.outputStats().map(({ name, stats }) => [{ output: name }, stats.errors]),
    ['output'],
  );
  const webrtc =
    (read: (stats: WebRtcStats) => number) =>
    (camera: Camera): [Record<string, string>, number][] =>
      camera.webrtc ? [[{}, read(camera.webrtc.stats())]] : [];
  counter(
    'camstream_webrtc_sessions_total',
    'WebRTC (WHEP) sessions opened',
    webrtc((s) => s.sessionsTotal),
  );
  counter(
    'camstream_webrtc_packets_sent_total',
    'RTP packets handed to WebRTC viewers',
    webrtc((s) => s.packetsSent),
  );
  counter(
    'camstream_webrtc_bytes_sent_total',
    'RTP payload bytes handed to WebRTC viewers',
    webrtc((s) => s.bytesSent),
  );
}
