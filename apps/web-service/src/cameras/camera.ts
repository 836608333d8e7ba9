/**
 * One camera the service serves: its link over the shared MQTT connection, its UDP ingest, its
 * outputs (outputs/index.ts) and its stream manager (so its own remuxer, fan-out, state, input
 * monitor and restart budget).
 * Nothing here is shared with another camera but the connection and the logger.
 * Its `change` event carries its StreamInfo on every change of its stream or of its recording (on,
 * off, and each recording it opens: `recordingId`, a new one at each cut): what the event streams
 * (routes/events.ts) and the registry pass on.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { cameraPaths, type StreamInfo } from '@camstream/protocol';
import type { ServiceConfig } from '../config.js';
import { UdpIngest } from '../ingest/udp-ingest.js';
import type { LlHlsPackager } from '../outputs/ll-hls/packager.js';
import type { PicturesOutput } from '../outputs/pictures/output.js';
import type { RecordingOutput } from '../outputs/recordings/output.js';
import type { RecordingStore } from '../outputs/recordings/store.js';
import type { WebRtcOutput } from '../outputs/webrtc/output.js';
import { createOutputs } from '../outputs/index.js';
import { CameraLink } from '../mqtt/camera-link.js';
import type { MqttConnection } from '../mqtt/connection.js';
import { StreamManager } from '../stream/stream-manager.js';
import type { CameraSettings } from './settings.js';

export interface CameraOptions {
  readonly settings: CameraSettings;
  /** The default camera: served at the first contract's URLs too, its files in HLS_DIR itself. */
  readonly isDefault: boolean;
  readonly config: ServiceConfig;
  readonly connection: MqttConnection;
  readonly logger: FastifyBaseLogger;
  /** Every camera's recordings (RECORD_DIR). */
  readonly recordingStore?: RecordingStore;
  /** Wall clock, ms (tests). */
  readonly now?: () => number;
}

/** Where a camera's plain HLS files go: HLS_DIR for the default camera, HLS_DIR/<id>/ for others. */
export function hlsDirOf(hlsDir: string, cameraId: string, isDefault: boolean): string {
  return isDefault ? hlsDir : join(hlsDir, cameraId);
}

export class Camera extends EventEmitter<{ change: [StreamInfo] }> {
  readonly id: string;
  readonly settings: CameraSettings;
  readonly isDefault: boolean;
  readonly link: CameraLink;
  readonly ingest: UdpIngest;
  readonly streams: StreamManager;
  /** LL-HLS (HLS_MODE=ll): the camera's stream in memory. */
  readonly packager: LlHlsPackager | undefined;
  /** WEBRTC=on: its WHEP viewers (routes/whep.ts). */
  readonly webrtc: WebRtcOutput | undefined;
  /** Snapshots, MJPEG and stream.ts (routes/pictures.ts). */
  readonly pictures: PicturesOutput | undefined;
  /** RECORD=on-demand or always: its recorder (routes/recordings.ts). */
  readonly recordings: RecordingOutput | undefined;
  /** Plain HLS (HLS_MODE=plain): the folder its files are written to. */
  readonly hlsDir: string;
  readonly #now: () => number;
  /** Since when a live stream has been recorded (ms), while it is. */
  #recordingSince: number | undefined;
  /** `recording` as last emitted. */
  #emittedRecording: boolean | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: CameraOptions) {
    super();
    this.setMaxListeners(0);
    const { settings, isDefault, config, connection, logger, recordingStore } = options;
    this.#now = options.now ?? Date.now;
    this.id = settings.id;
    this.settings = settings;
    this.isDefault = isDefault;
    const log = logger.child({ camera: settings.id });
    this.hlsDir = hlsDirOf(config.hlsDir, settings.id, isDefault);
    this.link = new CameraLink({ connection, cameraId: settings.id, logger: log });
    const outputs = createOutputs({
      config,
      cameraId: settings.id,
      hlsDir: this.hlsDir,
      logger: log,
      ...(recordingStore && { recordingStore }),
    });
    this.packager = outputs.packager;
    this.webrtc = outputs.webrtc;
    this.pictures = outputs.pictures;
    this.recordings = outputs.recordings;
    this.ingest = new UdpIngest({ listen: settings.listen, sources: settings.sources ?? [], logger: log });
    this.streams = new StreamManager({
      config: {
        ...config,
        cameraId: settings.id,
        hlsDir: this.hlsDir,
        udpListen: settings.listen,
        udpSources: settings.sources,
        cameraTarget: settings.target,
      },
      link: this.link,
      logger: log,
      outputs,
      ingest: this.ingest,
      describe: {
        // The first contract's routes (/api/stream…) say /hls/stream.m3u8 for the default camera.
        streamUrl: cameraPaths(settings.id).streamUrl,
        ingest: settings.listen,
        origin: settings.origin,
      },
    });
    this.streams.on('change', () => this.#emitChange());
    // A recording opened: at a cut (RECORD_MAX_SECONDS), the one before is closed by then.
    this.recordings?.on('opened', () => this.#emitChange());
  }

  info(): StreamInfo {
    const info = this.streams.info();
    const recorder = this.recordings;
    if (!recorder) return info;
    const recording = recorder.recording;
    // Noted when seen: every change of the state or of `recording` is emitted, so seen at once.
    if (!recording || info.state !== 'live') this.#recordingSince = undefined;
    else this.#recordingSince ??= this.#now();
    const since = this.#recordingSince;
    const id = since === undefined ? undefined : recorder.currentId;
    return {
      ...info,
      recording,
      ...(since !== undefined && { recordingSince: new Date(since).toISOString() }),
      ...(id !== undefined && { recordingId: id }),
      recordMode: recorder.mode === 'always' ? 'always' : 'on-demand',
    };
  }

  /**
   * `"record": true | false` in a start (RECORD=on-demand): records the stream from its next keyframe,
   * or ends the recording. The change is emitted at once when recording begins, and once the
   * recording is closed (its playlist VOD) when it ends, so a listener that lists recordings then
   * finds it finished. Nothing without a recorder.
   */
  async record(on: boolean): Promise<void> {
    const recorder = this.recordings;
    if (!recorder) return;
    const done = recorder.want(on);
    if (on) this.#emitIfRecordingChanged();
    try {
      await done;
    } finally {
      this.#emitIfRecordingChanged();
    }
  }

  #emitIfRecordingChanged(): void {
    if (this.recordings && this.recordings.recording !== this.#emittedRecording) this.#emitChange();
  }

  #emitChange(): void {
    const info = this.info();
    this.#emittedRecording = info.recording;
    this.emit('change', info);
  }

  /** Shutdown, first step: refuse starts; answer held playlist requests now so the server can drain. */
  refuseNewWork(): void {
    this.streams.refuseNewWork();
  }

  /** Stops its stream (not the camera: see StreamManager.close) and leaves the connection. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.refuseNewWork();
      await this.streams.close();
      this.link.close();
    })();
    return this.#closed;
  }
}
