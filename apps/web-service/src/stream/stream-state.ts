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
