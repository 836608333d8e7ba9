/**
 * A camera's outputs: the one place that knows which there are. The stream manager gets them from
 * here, feeds them all through one fan-out, and waits for `playable` (the HLS that /hls serves, per
 * HLS_MODE) before a start answers. A new output (WebRTC, snapshots, recordings…) is made here and
 * added to `all`; see docs/architecture.md, "Adding an output".
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ServiceConfig } from '../config.js';
import { LlHlsOutput } from './ll-hls/output.js';
import { LlHlsPackager } from './ll-hls/packager.js';
import type { Output, PlayableOutput } from './output.js';
import { PlainHlsOutput } from './plain-hls/output.js';

export interface CameraOutputs {
  /** What a start waits for, and what /hls serves. */
  readonly playable: PlayableOutput;
  /** Every output, `playable` included, in delivery order. */
  readonly all: readonly Output[];
  /** HLS_MODE=ll: the stream in memory, for /hls and the metrics. */
  readonly packager: LlHlsPackager | undefined;
}

export interface OutputSettings {
  readonly config: Pick<ServiceConfig, 'hlsMode' | 'hlsPartMs' | 'hlsSegmentSeconds' | 'hlsListSize'>;
  /** Where the camera's plain HLS files go (cameras/camera.ts hlsDirOf). */
  readonly hlsDir: string;
  readonly logger: FastifyBaseLogger;
}

export function createOutputs({ config, hlsDir, logger }: OutputSettings): CameraOutputs {
  if (config.hlsMode === 'll') {
    const packager = new LlHlsPackager({
      ...(config.hlsPartMs !== undefined && { partTarget: config.hlsPartMs / 1000 }),
      targetDuration: config.hlsSegmentSeconds,
      listSize: config.hlsListSize,
      logger,
    });
    const playable = new LlHlsOutput(packager);
    return { playable, all: [playable], packager };
  }
  const playable = new PlainHlsOutput({
    dir: hlsDir,
    segmentSeconds: config.hlsSegmentSeconds,
    listSize: config.hlsListSize,
    logger,
  });
  return { playable, all: [playable], packager: undefined };
}
