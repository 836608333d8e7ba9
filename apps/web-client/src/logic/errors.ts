/** Failures in plain words: the service's error codes, and what the page itself can run into. */
import type { ErrorBody } from '@camstream/protocol';

/** A failed request, as the page keeps it: the stable code and the service's own message. */
export interface ApiFailure {
  code: string;
  message: string;
  /** HTTP status, when there was an answer. */
  status?: number;
}

/** What a person reads. */
export interface ShownError {
  code: string;
  /** Plain words: what happened and what to do. */
  message: string;
  /** The service's own words, when they add something (the camera's reason, ffmpeg's complaint). */
  detail?: string;
}

/** Codes the page makes up for failures that never reached the service. */
export const CLIENT_ERRORS = {
  network: 'CLIENT_ERR_NETWORK',
  timeout: 'CLIENT_ERR_TIMEOUT',
  badAnswer: 'CLIENT_ERR_BAD_ANSWER',
  unsupported: 'CLIENT_ERR_HLS_UNSUPPORTED',
} as const;

const PLAIN: Readonly<Record<string, { message: string; withDetail: boolean }>> = {
  WEB_ERR_CAMERA_OFFLINE: {
    message: 'The camera is offline. Check that the camera agent is running and connected to the broker.',
    withDetail: false,
  },
  WEB_ERR_CAMERA_REJECTED: {
    message: 'The camera refused to start the stream.',
    withDetail: true,
  },
  WEB_ERR_MANIFEST_TIMEOUT: {
    message:
      'No video reached the server in time. Check that the camera can reach the server over UDP, then ' +
      'press Start again.',
    withDetail: false,
  },
  WEB_ERR_SEGMENTER_FAILED: {
    message:
      "The server could not package the video. Press Start again; if it keeps failing, check the web service's log.",
    withDetail: true,
  },
  WEB_ERR_SHUTTING_DOWN: {
    message: 'The web service is shutting down. Try again once it is back.',
    withDetail: false,
  },
  WEB_ERR_BAD_REQUEST: {
    message: 'The web service did not understand the request. Reload the page and try again.',
    withDetail: true,
  },
  WEB_ERR_UNAUTHORIZED: {
    message: 'Your token is no longer accepted: it may have expired or been revoked. Sign in again.',
    withDetail: false,
  },
  WEB_ERR_RECORDING_OFF: {
    message: 'This service does not record: set RECORD=on-demand (or always) on the web service.',
    withDetail: false,
  },
  WEB_ERR_UNKNOWN_RECORDING: {
    message: 'That recording is gone: deleted, or expired by the retention rules.',
    withDetail: false,
  },
  WEB_ERR_RECORDING_IN_PROGRESS: {
    message: 'That recording is still being made. Try again once it has ended.',
    withDetail: false,
  },
  WEB_ERR_RECORDING_BUSY: {
    message: 'The server is busy making other downloads. Try again in a moment.',
    withDetail: false,
  },
  [CLIENT_ERRORS.network]: {
    message: 'Could not reach the web service. Check your connection and that the service is running.',
    withDetail: false,
  },
  [CLIENT_ERRORS.timeout]: {
    message: 'The web service did not answer in time. Press Start again in a moment.',
    withDetail: false,
  },
  [CLIENT_ERRORS.badAnswer]: {
    message: 'The web service gave an answer this page does not understand.',
    withDetail: true,
  },
  [CLIENT_ERRORS.unsupported]: {
    message: 'This browser cannot play HLS video. Try a recent Chrome, Firefox, Edge or Safari.',
    withDetail: false,
  },
};

/** Maps a failure to words a person understands; unknown codes fall back to the service's message. */
export function describeError(failure: ApiFailure): ShownError {
  const known = PLAIN[failure.code];
  if (!known) {
    return { code: failure.code, message: failure.message.trim() || 'Something went wrong.' };
  }
  const detail = failure.message.trim();
  return known.withDetail && detail !== '' && detail !== known.message
    ? { code: failure.code, message: known.message, detail }
    : { code: failure.code, message: known.message };
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Record<string, unknown>;
  return typeof body.code === 'string' && typeof body.message === 'string';
}

/** Reads a non-2xx answer: the service's `{statusCode, code, error, message}`, or whatever came back. */
export function failureFromResponse(status: number, bodyText: string): ApiFailure {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) return { code: body.code, message: body.message, status };
  const text = bodyText.trim().slice(0, 200);
  return {
    code: `HTTP_${status}`,
    message: text === '' ? `The web service answered with HTTP ${status}.` : `HTTP ${status}: ${text}`,
    status,
  };
}
