/** The web service's HTTP API (same origin). Never throws: every failure becomes an ApiFailure. */
import { API_PATHS, type StartResponse, type StopResponse } from '@camstream/protocol';
import type { StreamInfo } from '@camstream/protocol';
import { CLIENT_ERRORS, failureFromResponse, type ApiFailure } from './logic/errors';
import { toStreamInfo } from './logic/stream-info';

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiFailure };

/** Start waits for a playable playlist (up to ~10 s on the service's side); give it room. */
const START_TIMEOUT_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 10_000;

async function request(method: 'GET' | 'POST', path: string, timeoutMs: number): Promise<ApiResult<unknown>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
      body: method === 'POST' ? '{}' : undefined,
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
  if (!response.ok) return { ok: false, error: failureFromResponse(response.status, text) };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return badAnswer(text);
  }
}

function badAnswer(text: string): { ok: false; error: ApiFailure } {
  return { ok: false, error: { code: CLIENT_ERRORS.badAnswer, message: text.slice(0, 200) } };
}

export async function fetchStreamInfo(): Promise<ApiResult<StreamInfo>> {
  const result = await request('GET', API_PATHS.stream, DEFAULT_TIMEOUT_MS);
  if (!result.ok) return result;
  const info = toStreamInfo(result.value);
  return info ? { ok: true, value: info } : badAnswer(JSON.stringify(result.value));
}

export function postStart(): Promise<ApiResult<StartResponse>> {
  return request('POST', API_PATHS.start, START_TIMEOUT_MS) as Promise<ApiResult<StartResponse>>;
}

export function postStop(): Promise<ApiResult<StopResponse>> {
  return request('POST', API_PATHS.stop, START_TIMEOUT_MS) as Promise<ApiResult<StopResponse>>;
}
