/**
 * What a request needs (its route's `config.access`, or the default by method) and which camera it
 * is about (the `:cameraId` param; the default camera for /api/stream/… and /hls/<file>; <id> for
 * /hls/<id>/…). Pure, so the table test and the guard agree.
 */
import { parseRecordingId } from '../outputs/recordings/ids.js';
import type { Identity } from './tokens.js';

/** The list of recordings without `?camera=`: about every camera, so only for a token that may watch all. */
export const EVERY_CAMERA = '*';

/** public: anyone; watch: viewer or operator; operate: operator; metrics: METRICS_TOKEN or loopback. */
export type Access = 'public' | 'watch' | 'operate' | 'metrics';

export function defaultAccess(method: string): Access {
  if (method === 'OPTIONS') return 'public'; // CORS preflights carry no credentials
  return method === 'GET' || method === 'HEAD' ? 'watch' : 'operate';
}

/** The camera a path is about, or undefined for a route about every camera (the list, its events). */
export function cameraOfRequest(
  path: string,
  params: Record<string, unknown> | undefined,
  defaultCameraId: string,
  query?: Record<string, unknown>,
): string | undefined {
  const id = params?.cameraId;
  if (typeof id === 'string') return id;
  // /api/recordings/<camera>~<date>~<time>[.mp4][/…]: the camera the id names.
  const recording = params?.recordingId;
  if (typeof recording === 'string') return parseRecordingId(recording.replace(/\.mp4$/, ''))?.cameraId;
  if (path === '/api/recordings') return typeof query?.camera === 'string' ? query.camera : EVERY_CAMERA;
  if (path.startsWith('/api/stream/') || path === '/api/stream') return defaultCameraId;
  if (path.startsWith('/hls/')) return cameraOfHlsPath(path, defaultCameraId);
  // A path no route matched (or a route without the param): judged by the camera it names.
  const named = /^\/api\/cameras\/([^/]+)(?:\/|$)/.exec(path)?.[1];
  if (named !== undefined && named !== 'events') return decodeURIComponentSafe(named);
  return undefined;
}

/** /hls/<file>: the default camera; /hls/<id>/<file>: <id>. */
export function cameraOfHlsPath(path: string, defaultCameraId: string): string {
  const rest = path.slice('/hls/'.length).split('?')[0]!;
  const slash = rest.indexOf('/');
  return slash === -1 ? defaultCameraId : decodeURIComponentSafe(rest.slice(0, slash));
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export type Verdict = 'ok' | 'forbidden';

/** Whether an identity may do what the access asks, on this camera (undefined: no one camera). */
export function judge(
  identity: Identity,
  access: 'watch' | 'operate',
  cameraId: string | undefined,
): Verdict {
  if (access === 'operate' && identity.role !== 'operator') return 'forbidden';
  if (cameraId !== undefined && identity.cameras !== '*' && !identity.cameras.includes(cameraId)) {
    return 'forbidden';
  }
  return 'ok';
}
