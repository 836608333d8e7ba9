/** MQTT topic names. The one place that spells them. */

export const DEFAULT_CAMERA_ID = 'cam1';

/**
 * Camera ids become one MQTT topic level, so they may not contain `/`, `+`, `#` or spaces; and one
 * path segment (`/api/cameras/<id>`, `/hls/<id>/`, a folder in HLS_DIR), so they may not be dots
 * only (`.`, `..`).
 */
export const CAMERA_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9_.-]{1,64}$/;

export type TopicKind = 'control' | 'status' | 'events';

export interface CameraTopics {
  readonly control: string;
  readonly status: string;
  readonly events: string;
}

export function isValidCameraId(cameraId: string): boolean {
  return CAMERA_ID_PATTERN.test(cameraId);
}

export function cameraTopics(cameraId: string): CameraTopics {
  if (!isValidCameraId(cameraId)) {
    throw new TypeError(
      `invalid camera id ${JSON.stringify(cameraId)}: use 1-64 letters, digits, '.', '_' or '-', not only dots`,
    );
  }
  return Object.freeze({
    control: `cameras/${cameraId}/control`,
    status: `cameras/${cameraId}/status`,
    events: `cameras/${cameraId}/events`,
  });
}

/** Splits `cameras/<id>/<kind>`; returns undefined for any other topic. */
export function parseCameraTopic(topic: string): { cameraId: string; kind: TopicKind } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'cameras') return undefined;
  const [, cameraId, kind] = parts as [string, string, string];
  if (!isValidCameraId(cameraId)) return undefined;
  if (kind !== 'control' && kind !== 'status' && kind !== 'events') return undefined;
  return { cameraId, kind };
}
