/**
 * The pure part of the stream's state machine: which transitions exist, how the service answers a
 * change in the camera's status, and what GET /api/stream reports. No I/O, unit-tested.
 */
import {
  STREAM_URL,
  type CameraState,
  type CameraStatus,
  type StreamInfo,
  type StreamState,
} from '@camstream/protocol';
import { createError, type ErrorCode, type ServiceError } from '../errors.js';

/**
 * idle → starting → live → stopping → idle. A failed start goes through stopping (the segmenter is
 * stopped and the files removed) back to idle.
 */
export const TRANSITIONS: Readonly<Record<StreamState, readonly StreamState[]>> = {
  idle: ['starting', 'stopping'],
  starting: ['live', 'stopping'],
  live: ['stopping'],
  stopping: ['idle'],
};

export function canTransition(from: StreamState, to: StreamState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Who started the stream: the service's API, or the camera on someone else's command. */
export type Origin = 'api' | 'camera';

/** Failures after which a camera that was told to start should be told to stop again. */
export const STOP_CAMERA_AFTER: readonly ErrorCode[] = [
  'WEB_ERR_MANIFEST_TIMEOUT',
  'WEB_ERR_SEGMENTER_FAILED',
  'WEB_ERR_SHUTTING_DOWN',
  'WEB_ERR_INTERNAL',
];

/**
 * Failures of a pickup (a stream started at the camera) after which a camera that is still active is
 * picked up again later (pickup-retry.ts): its video may not have reached the service yet.
 */
export const RETRY_PICKUP_AFTER: readonly ErrorCode[] = [
  'WEB_ERR_MANIFEST_TIMEOUT',
  'WEB_ERR_SEGMENTER_FAILED',
  'WEB_ERR_UDP_LISTEN_FAILED',
  'WEB_ERR_INTERNAL',
];

/** Why a start asked for through the API cannot be tried at all, if it cannot. */
export function refuseApiStart(
  link: { readonly connected: boolean; readonly brokerUrl: string; readonly status: CameraStatus | null },
  cameraId: string,
): ServiceError | undefined {
  if (!link.connected) return createError('WEB_ERR_BROKER_UNAVAILABLE', link.brokerUrl, cameraId);
  const camera = link.status;
  if (camera !== null && camera.state !== 'offline') return undefined;
  const why = camera ? `offline since ${camera.at}` : 'never heard from';
  return createError('WEB_ERR_CAMERA_OFFLINE', cameraId, why);
}

export const isActive = (state: CameraState | null | undefined): boolean =>
  state === 'starting' || state === 'streaming';

export type CameraReaction =
  /** The camera started without the service asking (a control event straight to the broker). */
  | 'pickup'
  /** A start in progress cannot succeed: the camera went offline. */
  | 'abort-start-offline'
  /** A start in progress cannot succeed: the camera stopped. */
  | 'abort-start-stopped'
  /** The live stream ended at the camera: stop the segmenter, remove the files. */
  | 'teardown'
  | 'teardown-offline'
  /** The camera is offline on MQTT but its video still arrives (a broker restart): keep the stream. */
  | 'keep-offline'
  | 'none';

export interface CameraChange {
  readonly streamState: StreamState;
  /** The camera's state before this status; null: never heard from, or cleared. */
  readonly previous: CameraState | null;
  readonly next: CameraStatus | null;
  /** The service told the camera to stop and the camera has not reported idle/offline since. */
  readonly awaitingCameraStop: boolean;
  /** During the current start, the camera has reported starting or streaming. */
  readonly activeDuringStart: boolean;
  /** While live: the camera's video is arriving (not silent for INPUT_SILENCE_MS). */
  readonly videoArriving?: boolean;
}

export function reactToCamera(change: CameraChange): CameraReaction {
  const next = change.next?.state ?? null;
  switch (change.streamState) {
    case 'idle':
      return isActive(next) && !isActive(change.previous) && !change.awaitingCameraStop ? 'pickup' : 'none';
    case 'starting':
      if (next === 'offline') return 'abort-start-offline';
      // An `idle` from before the camera handled the start (a retained copy, say) is not a stop.
      if (next === 'idle' && change.activeDuringStart) return 'abort-start-stopped';
      return 'none';
    case 'live':
      if (next === 'offline') return change.videoArriving ? 'keep-offline' : 'teardown-offline';
      if (next === 'idle') return 'teardown';
      // `error`: the agent restarts its encoder by itself; the segmenter keeps listening.
      return 'none';
    case 'stopping':
      return 'none';
  }
}

/**
 * A camera that became active while the service was busy starting or stopping (a start the service
 * then gave up on, because the camera said idle first, reaching the camera after all) was not picked
 * up: the service was not idle. Once idle again, such a camera is picked up if it is still active and
 * the service has not told it to stop since. Without this, the camera would stream to nobody.
 */
export function missedPickup(change: CameraChange): boolean {
  const next = change.next?.state ?? null;
  return (
    (change.streamState === 'starting' || change.streamState === 'stopping') &&
    isActive(next) &&
    !isActive(change.previous)
  );
}

export function describeStream(
  state: StreamState,
  cameraId: string,
  camera: CameraStatus | null,
  lastError: { code: string; message: string } | undefined,
  streamUrl: string = STREAM_URL,
): StreamInfo {
  return {
    state,
    cameraId,
    camera,
    ...(state === 'live' && { streamUrl }),
    ...(lastError && { lastError }),
  };
}
