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
import { PicturesOutput } from './pictures/output.js';
import type { PicturesConfig } from './pictures/settings.js';
import { PlainHlsOutput } from './plain-hls/output.js';
import { RecordingOutput } from './recordings/output.js';
import type { RecordingsConfig } from './recordings/settings.js';
import type { RecordingStore } from './recordings/store.js';
import { WebRtcOutput } from './webrtc/output.js';
import { DEFAULT_SESSION_TIMEOUTS } from './webrtc/session.js';

export interface CameraOutputs {
  /** What a start waits for, and what /hls serves. */
  readonly playable: PlayableOutput;
  /** Every output, `playable` included, in delivery order. */
  readonly all: readonly Output[];
  /** HLS_MODE=ll: the stream in memory, for /hls and the metrics. */
  readonly packager: LlHlsPackager | undefined;
  /** WEBRTC=on: the camera's WHEP viewers, for routes/whep.ts and the metrics. */
  readonly webrtc: WebRtcOutput | undefined;
  /** Snapshots, MJPEG and stream.ts (routes/pictures.ts); absent for unit tests that pass no settings. */
  readonly pictures: PicturesOutput | undefined;
  /** RECORD=on-demand or always: the camera's recorder (routes/cameras.ts, routes/recordings.ts). */
  readonly recordings: RecordingOutput | undefined;
}

type WebRtcConfig = Pick<
  ServiceConfig,
  | 'webrtc'
  | 'webrtcMaxViewers'
  | 'webrtcInactiveMs'
  | 'webrtcUdpPortRange'
  | 'webrtcInterface'
  | 'webrtcPublicIp'
  | 'webrtcIceServers'
>;

export interface OutputSettings {
  readonly config: Pick<ServiceConfig, 'hlsMode' | 'hlsPartMs' | 'hlsSegmentSeconds' | 'hlsListSize'> &
    Partial<WebRtcConfig> &
    Partial<PicturesConfig & Pick<ServiceConfig, 'ffmpegPath'>> &
    Partial<Pick<RecordingsConfig, 'record' | 'recordMaxSeconds'>>;
  /** Every camera's recordings (RECORD_DIR); absent: no recorder (unit tests). */
  readonly recordingStore?: RecordingStore;
  /** For the WebRTC output's errors. */
  readonly cameraId?: string;
  /** Where the camera's plain HLS files go (cameras/camera.ts hlsDirOf). */
  readonly hlsDir: string;
  readonly logger: FastifyBaseLogger;
}

export function createOutputs(settings: OutputSettings): CameraOutputs {
  const hls = createHlsOutput(settings);
  const webrtc = createWebRtcOutput(settings);
  const pictures = createPicturesOutput(settings);
  const recordings = createRecordingOutput(settings);
  const all = [
    hls.playable,
    ...(webrtc ? [webrtc] : []),
    ...(pictures ? [pictures] : []),
    ...(recordings ? [recordings] : []),
  ];
  return { ...hls, all, webrtc, pictures, recordings };
}

/** Unless RECORD=off (or a caller that passes no store: unit tests). */
function createRecordingOutput({
  config,
  cameraId = '',
  recordingStore,
  logger,
}: OutputSettings): RecordingOutput | undefined {
  if (!recordingStore || config.record === undefined || config.record === 'off') return undefined;
  const { recordMaxSeconds } = config;
  return new RecordingOutput({
    cameraId,
    mode: config.record,
    store: recordingStore,
    logger,
    ...(recordMaxSeconds !== undefined && { maxRecordingMs: recordMaxSeconds * 1000 }),
  });
}

function createPicturesOutput({ config, cameraId = '', logger }: OutputSettings): PicturesOutput | undefined {
  const { ffmpegPath, mjpegFps, mjpegQuality, picturesStallMs, rawMaxReaders = 10 } = config;
  if (ffmpegPath === undefined || mjpegFps === undefined || mjpegQuality === undefined) return undefined;
  if (picturesStallMs === undefined) return undefined;
  return new PicturesOutput({
    cameraId,
    config: { ffmpegPath, mjpegFps, mjpegQuality, picturesStallMs, rawMaxReaders },
    logger,
  });
}

/** Unless WEBRTC=off (or a caller that passes no WebRTC settings: unit tests of the HLS outputs). */
function createWebRtcOutput({ config, cameraId = '', logger }: OutputSettings): WebRtcOutput | undefined {
  if (!config.webrtc) return undefined;
  return new WebRtcOutput({
    cameraId,
    maxViewers: config.webrtcMaxViewers ?? 10,
    timeouts: {
      ...DEFAULT_SESSION_TIMEOUTS,
      inactiveMs: config.webrtcInactiveMs ?? DEFAULT_SESSION_TIMEOUTS.inactiveMs,
    },
    peer: {
      udpPortRange: config.webrtcUdpPortRange,
      interfaceAddress: config.webrtcInterface,
      publicIp: config.webrtcPublicIp,
      iceServers: config.webrtcIceServers ?? [],
    },
    logger,
  });
}

function createHlsOutput({
  config,
  hlsDir,
  logger,
}: OutputSettings): Pick<CameraOutputs, 'playable' | 'packager'> {
  if (config.hlsMode === 'll') {
    const packager = new LlHlsPackager({
      ...(config.hlsPartMs !== undefined && { partTarget: config.hlsPartMs / 1000 }),
      targetDuration: config.hlsSegmentSeconds,
      listSize: config.hlsListSize,
      logger,
    });
    return { playable: new LlHlsOutput(packager), packager };
  }
  const playable = new PlainHlsOutput({
    dir: hlsDir,
    segmentSeconds: config.hlsSegmentSeconds,
    listSize: config.hlsListSize,
    logger,
  });
  return { playable, packager: undefined };
}
