/**
 * The camera list as the page keeps it: GET /api/cameras answers and the events of
 * /api/cameras/events (`camera` with a StreamInfo, `removed` with `{ cameraId }`) reduced into it.
 * Pure; the order is the service's: the default camera first, then by id.
 */
import type { StreamInfo } from '@camstream/protocol';
import { toStreamInfo } from './stream-info';

export type CamerasEvent =
  /** A whole list (GET /api/cameras): replaces what the page had. */
  | { type: 'list'; cameras: readonly StreamInfo[] }
  | { type: 'camera'; info: StreamInfo }
  | { type: 'removed'; cameraId: string }
  /** After a reconnect: only these cameras are still served (a `removed` may have been missed). */
  | { type: 'prune'; keep: ReadonlySet<string> };

const byId = (a: StreamInfo, b: StreamInfo) =>
  a.cameraId < b.cameraId ? -1 : a.cameraId > b.cameraId ? 1 : 0;

export function reduceCameras(
  cameras: readonly StreamInfo[] | null,
  event: CamerasEvent,
): readonly StreamInfo[] | null {
  switch (event.type) {
    case 'list':
      return event.cameras;
    case 'camera': {
      const { info } = event;
      if (cameras === null) return [info];
      const at = cameras.findIndex((camera) => camera.cameraId === info.cameraId);
      if (at >= 0) return cameras.map((camera, i) => (i === at ? info : camera));
      // A new camera: the first one stays first (the service lists the default camera first, and
      // it sends that one first on connect), the others by id.
      const [first, ...rest] = cameras;
      return [first!, ...[...rest, info].sort(byId)];
    }
    case 'removed':
      if (cameras === null) return null;
      return cameras.some((camera) => camera.cameraId === event.cameraId)
        ? cameras.filter((camera) => camera.cameraId !== event.cameraId)
        : cameras;
    case 'prune': {
      if (cameras === null) return null;
      const kept = cameras.filter((camera) => event.keep.has(camera.cameraId));
      return kept.length === cameras.length ? cameras : kept;
    }
  }
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** `{ cameras: StreamInfo[] }` (GET /api/cameras), or null when it is not one. */
export function toCameraList(value: unknown): StreamInfo[] | null {
  if (
    typeof value !== 'object' ||
    value === null ||
    !Array.isArray((value as { cameras?: unknown }).cameras)
  ) {
    return null;
  }
  const cameras = (value as { cameras: unknown[] }).cameras.map(toStreamInfo);
  return cameras.every((camera) => camera !== null) ? (cameras as StreamInfo[]) : null;
}

/** An SSE event of /api/cameras/events as a CamerasEvent, or null when its data is not what it should be. */
export function parseCamerasEvent(type: string, data: string): CamerasEvent | null {
  const value = parse(data);
  if (type === 'camera') {
    const info = toStreamInfo(value);
    return info ? { type: 'camera', info } : null;
  }
  if (type === 'removed') {
    const cameraId = (value as { cameraId?: unknown } | undefined)?.cameraId;
    return typeof cameraId === 'string' ? { type: 'removed', cameraId } : null;
  }
  return null;
}
