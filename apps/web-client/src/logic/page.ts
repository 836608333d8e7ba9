/**
 * Which page to show, from the camera list and the URL. Pure: the caller passes `location.search`.
 * - one camera (or a service that does not list cameras): the single-camera page, as it always was;
 * - several: the grid of tiles;
 * - `?camera=<id>`: that camera large; an id the service does not serve: a message and the grid.
 */
import { isValidCameraId, type StreamInfo } from '@camstream/protocol';

/** The query parameter of the deep link `/?camera=<id>`. */
export const CAMERA_PARAM = 'camera';

export type PageView =
  /** The camera list has not arrived yet. */
  | { kind: 'loading' }
  /** Today's page: the default camera through the first contract's routes. */
  | { kind: 'single' }
  /** `unknownId`: the deep link named a camera that is not served here. */
  | { kind: 'grid'; unknownId: string | null }
  | { kind: 'camera'; cameraId: string };

export interface CameraListState {
  /** The cameras, or null until the first answer. */
  cameras: readonly StreamInfo[] | null;
  /** The service did not list its cameras (unreachable, or a service without /api/cameras). */
  unavailable: boolean;
}

/** The `camera` parameter of `search`, or null (absent or empty). */
export function requestedCamera(search: string): string | null {
  const id = new URLSearchParams(search).get(CAMERA_PARAM);
  return id === null || id === '' ? null : id;
}

/**
 * `stayOnSingle`: the single-camera page is on screen (the person has not navigated since): a camera
 * that appears meanwhile (discovered on the broker) adds a link to the grid rather than taking the
 * page, and maybe a playing video, away.
 */
export function pageView(
  { cameras, unavailable }: CameraListState,
  search: string,
  stayOnSingle = false,
): PageView {
  const wanted = requestedCamera(search);
  if (cameras === null) {
    if (!unavailable) return { kind: 'loading' };
    // Nothing to compare with: the camera's own page says whether the service answers.
    return wanted !== null && isValidCameraId(wanted)
      ? { kind: 'camera', cameraId: wanted }
      : { kind: 'single' };
  }
  if (wanted !== null) {
    if (cameras.some((camera) => camera.cameraId === wanted)) return { kind: 'camera', cameraId: wanted };
    return { kind: 'grid', unknownId: wanted };
  }
  return cameras.length > 1 && !stayOnSingle ? { kind: 'grid', unknownId: null } : { kind: 'single' };
}

/** `search` with the camera parameter set to `cameraId` (or removed for null); other parameters stay. */
export function searchWithCamera(search: string, cameraId: string | null): string {
  const params = new URLSearchParams(search);
  if (cameraId === null) params.delete(CAMERA_PARAM);
  else params.set(CAMERA_PARAM, cameraId);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
