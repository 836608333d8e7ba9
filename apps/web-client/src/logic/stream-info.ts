/** Reads StreamInfo from the wire (SSE data, GET /api/stream) without trusting it blindly. */
import { CAMERA_STATES, STREAM_STATES } from '@camstream/protocol';
import type { CameraState, StreamInfo, StreamState } from '@camstream/protocol';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isStreamState = (value: unknown): value is StreamState =>
  (STREAM_STATES as readonly unknown[]).includes(value);

const isCameraState = (value: unknown): value is CameraState =>
  (CAMERA_STATES as readonly unknown[]).includes(value);

/**
 * The StreamInfo in `value`, or null when it is not one. Only the fields the page relies on are
 * checked; unknown extra fields are kept (newer services may add some).
 */
export function toStreamInfo(value: unknown): StreamInfo | null {
  if (!isRecord(value) || !isStreamState(value.state) || typeof value.cameraId !== 'string') return null;
  const camera = value.camera;
  if (
    camera !== null &&
    !(isRecord(camera) && isCameraState(camera.state) && typeof camera.at === 'string')
  ) {
    return null;
  }
  if (value.streamUrl !== undefined && typeof value.streamUrl !== 'string') return null;
  if (value.hlsMode !== undefined && value.hlsMode !== 'll' && value.hlsMode !== 'plain') return null;
  const lastError = value.lastError;
  if (
    lastError !== undefined &&
    !(isRecord(lastError) && typeof lastError.code === 'string' && typeof lastError.message === 'string')
  ) {
    return null;
  }
  return value as StreamInfo;
}

/** Parses an SSE `stream` event's data. */
export function parseStreamInfo(text: string): StreamInfo | null {
  try {
    return toStreamInfo(JSON.parse(text));
  } catch {
    return null;
  }
}
