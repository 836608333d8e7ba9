/**
 * The pictures outputs' series for GET /metrics (routes/metrics.ts registers them), per camera:
 * snapshot requests and the decodes they cost (many requests at once share one), MJPEG viewers,
 * decoders and skipped pictures, stream.ts readers, and the readers of either that were dropped.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CameraRegistry } from '../../cameras/registry.js';
import type { PicturesStats } from './output.js';

type Read = (stats: PicturesStats) => number;

const SERIES: [kind: 'gauge' | 'counter', name: string, help: string, read: Read][] = [
  ['counter', 'camstream_snapshot_requests_total', 'snapshot.jpg requests', (s) => s.snapshot.requests],
  [
    'counter',
    'camstream_snapshot_decodes_total',
    'ffmpeg decodes for snapshots (requests at once share one)',
    (s) => s.snapshot.decodes,
  ],
  ['gauge', 'camstream_mjpeg_viewers', 'stream.mjpg viewers now', (s) => s.mjpeg.viewers],
  [
    'gauge',
    'camstream_mjpeg_decoder_running',
    '1 while the camera’s MJPEG decoder runs',
    (s) => (s.mjpeg.decoderRunning ? 1 : 0),
  ],
  ['counter', 'camstream_mjpeg_decoders_total', 'MJPEG decoders started', (s) => s.mjpeg.decoders],
  ['counter', 'camstream_mjpeg_pictures_total', 'MJPEG pictures decoded', (s) => s.mjpeg.pictures],
  [
    'counter',
    'camstream_mjpeg_skipped_total',
    'MJPEG pictures a busy viewer skipped',
    (s) => s.mjpeg.skipped,
  ],
  [
    'counter',
    'camstream_mjpeg_dropped_total',
    'MJPEG viewers dropped for taking nothing',
    (s) => s.mjpeg.dropped,
  ],
  ['gauge', 'camstream_rawts_readers', 'stream.ts readers now', (s) => s.rawTs.readers],
  ['counter', 'camstream_rawts_readers_total', 'stream.ts readers served', (s) => s.rawTs.readersTotal],
  [
    'counter',
    'camstream_rawts_dropped_total',
    'stream.ts readers dropped as too slow',
    (s) => s.rawTs.dropped,
  ],
];

export function picturesMetrics(registry: Registry, cameras: CameraRegistry): void {
  for (const [kind, name, help, read] of SERIES) {
    const Metric = kind === 'gauge' ? Gauge : Counter;
    new Metric({
      name,
      help,
      labelNames: ['camera'],
      registers: [registry],
      collect(this: Gauge | Counter) {
        this.reset();
        for (const camera of cameras.list()) {
          const stats = camera.pictures?.stats();
          if (stats) (this as Gauge).inc({ camera: camera.id }, read(stats));
        }
      },
    });
  }
}
