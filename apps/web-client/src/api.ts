/** The web service's HTTP API (same origin). Never throws: every failure becomes an ApiFailure. */
import {
  API_PATHS,
  cameraPaths,
  recordingPaths,
  type Recording,
  type StartBody,
  type StartResponse,
  type StopResponse,
} from '@camstream/protocol';
import type { StreamInfo } from '@camstream/protocol';
import { authHeaders, reportUnauthorized } from './auth/session';
import { toAuthInfo, type AuthInfo } from './logic/auth';
import { toCameraList } from './logic/cameras';
import { toRecordingList } from './logic/recordings';
import { CLIENT_ERRORS, failureFromResponse, type ApiFailure } from './logic/errors';
import { toStreamInfo } from './logic/stream-info';

/** One camera's routes: the first contract's for the default camera, `/api/cameras/<id>/…` for any. */
export interface StreamEndpoints {
  readonly info: string;
  readonly start: string;
  readonly stop: string;
  /** Server-sent `stream` events with the camera's StreamInfo. */
  readonly events: string;
  /** WHEP: POST an SDP offer here to watch over WebRTC. */
  readonly whep: string;
}

export const DEFAULT_ENDPOINTS: StreamEndpoints = {
  info: API_PATHS.stream,
  start: API_PATHS.start,
  stop: API_PATHS.stop,
  events: API_PATHS.events,
  whep: `${API_PATHS.stream}/whep`,
};

/** No id: the default camera through the first contract (today's page). The id must be valid. */
export const endpointsFor = (cameraId: string | undefined): StreamEndpoints =>
  cameraId === undefined
    ? DEFAULT_ENDPOINTS
    : { ...cameraPaths(cameraId), whep: `${API_PATHS.cameras}/${cameraId}/whep` };

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiFailure };

/** Start waits for a playable playlist (up to ~10 s on the service's side); give it room. */
const START_TIMEOUT_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * `token`: sent as `Authorization: Bearer` (default: the session's, none without one). A 401 with
 * the session's token raises its alarm (the sign-in screen), unless `token` was given. A POST sends
 * `body` as JSON (`{}` without one). An empty answer (204) is `null`.
 */
async function request(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  timeoutMs: number,
  token?: string | null,
  body: unknown = {},
): Promise<ApiResult<unknown>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        ...(method === 'POST' && { 'content-type': 'application/json' }),
        ...authHeaders(token),
      },
      body: method === 'POST' ? JSON.stringify(body) : undefined,
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    return {
      ok: false,
      error: {
        code: timedOut ? CLIENT_ERRORS.timeout : CLIENT_ERRORS.network,
        message: error instanceof Error ? error.message : String(error),
      },
    };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return {
      ok: false,
      error: { code: CLIENT_ERRORS.network, message: error instanceof Error ? error.message : String(error) },
    };
  }
  if (response.status === 401 && token === undefined) reportUnauthorized();
  if (!response.ok) return { ok: false, error: failureFromResponse(response.status, text) };
  if (text === '') return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return badAnswer(text);
  }
}

function badAnswer(text: string): { ok: false; error: ApiFailure } {
  return { ok: false, error: { code: CLIENT_ERRORS.badAnswer, message: text.slice(0, 200) } };
}

export async function fetchStreamInfo(path: string = API_PATHS.stream): Promise<ApiResult<StreamInfo>> {
  const result = await request('GET', path, DEFAULT_TIMEOUT_MS);
  if (!result.ok) return result;
  const info = toStreamInfo(result.value);
  return info ? { ok: true, value: info } : badAnswer(JSON.stringify(result.value));
}

/** Every camera (GET /api/cameras). */
export async function fetchCameras(): Promise<ApiResult<StreamInfo[]>> {
  const result = await request('GET', API_PATHS.cameras, DEFAULT_TIMEOUT_MS);
  if (!result.ok) return result;
  const cameras = toCameraList(result.value);
  return cameras ? { ok: true, value: cameras } : badAnswer(JSON.stringify(result.value));
}

/** `body`: `{ record }` records the stream (or stops recording it; a running one goes on). */
export function postStart(
  path: string = API_PATHS.start,
  body: StartBody = {},
): Promise<ApiResult<StartResponse>> {
  return request('POST', path, START_TIMEOUT_MS, undefined, body) as Promise<ApiResult<StartResponse>>;
}

export function postStop(path: string = API_PATHS.stop): Promise<ApiResult<StopResponse>> {
  return request('POST', path, START_TIMEOUT_MS) as Promise<ApiResult<StopResponse>>;
}

/** A camera's recordings (GET /api/recordings?camera=), newest first. */
export async function fetchRecordings(cameraId: string): Promise<ApiResult<Recording[]>> {
  const path = `${API_PATHS.recordings}?camera=${encodeURIComponent(cameraId)}`;
  const result = await request('GET', path, DEFAULT_TIMEOUT_MS);
  if (!result.ok) return result;
  const recordings = toRecordingList(result.value);
  return recordings ? { ok: true, value: recordings } : badAnswer(JSON.stringify(result.value));
}

/** Deletes a recording (operators): DELETE /api/recordings/<id>, 204. */
export async function deleteRecording(id: string): Promise<ApiResult<null>> {
  const result = await request('DELETE', recordingPaths(id).one, DEFAULT_TIMEOUT_MS);
  return result.ok ? { ok: true, value: null } : result;
}

/** Public: whether the service wants a token (and with one, what it may do). */
export const AUTH_PATH = '/api/auth';

/** GET /api/auth with `token` (null: none): whether the service wants a token, and what this one may do. */
export async function fetchAuth(token: string | null): Promise<ApiResult<AuthInfo>> {
  const result = await request('GET', AUTH_PATH, DEFAULT_TIMEOUT_MS, token);
  if (!result.ok) return result;
  const info = toAuthInfo(result.value);
  return info ? { ok: true, value: info } : badAnswer(JSON.stringify(result.value));
}
