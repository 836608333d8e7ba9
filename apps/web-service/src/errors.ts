/**
 * The error registry: every error the service reports has a stable code, a message template and an
 * HTTP status. Codes are listed in docs/errors.md; clients match on `code`, people read `message`.
 *
 * A small equivalent of @fastify/error (printf-style templates, `code` and `statusCode` on the
 * instance), written here because @fastify/error is only a transitive dependency of fastify.
 */
import { STATUS_CODES } from 'node:http';
import { format } from 'node:util';
import type { ErrorBody } from '@camstream/protocol';

interface ErrorDefinition {
  readonly statusCode: number;
  /** printf-style (`%s`, `%d`), filled with the arguments given to `createError`. */
  readonly message: string;
}

export const ERRORS = {
  WEB_ERR_CONFIG: { statusCode: 500, message: 'invalid configuration:\n%s' },
  WEB_ERR_BAD_REQUEST: { statusCode: 400, message: 'bad request: %s' },
  WEB_ERR_NOT_FOUND: { statusCode: 404, message: 'not found: %s' },
  WEB_ERR_UNKNOWN_CAMERA: {
    statusCode: 404,
    message: 'no camera %s here: GET /api/cameras lists the cameras this service serves',
  },
  WEB_ERR_HLS_TOO_FAR_AHEAD: {
    statusCode: 400,
    message: 'the playlist request asks for %s, too far beyond the live edge (%s)',
  },
  WEB_ERR_HLS_BLOCKING_TIMEOUT: {
    statusCode: 503,
    message: 'the playlist request for %s was not answerable within %d ms: is the camera still sending?',
  },
  WEB_ERR_CAMERA_OFFLINE: {
    statusCode: 503,
    message: 'camera %s is offline (%s): start its camera agent and try again',
  },
  WEB_ERR_BROKER_UNAVAILABLE: {
    statusCode: 503,
    message: 'the MQTT broker at %s is not reachable, so camera %s cannot be told to start',
  },
  WEB_ERR_CAMERA_REJECTED: { statusCode: 502, message: 'camera %s refused to %s: %s' },
  WEB_ERR_MANIFEST_TIMEOUT: {
    statusCode: 504,
    message:
      'no playable playlist within %d ms: the camera was told to stop. Is it sending MPEG-TS to %s? (%s)',
  },
  WEB_ERR_UDP_LISTEN_FAILED: {
    statusCode: 500,
    message: 'cannot receive the camera’s video: listening on %s failed: %s',
  },
  WEB_ERR_PORTS_EXHAUSTED: {
    statusCode: 503,
    message: 'every UDP port of UDP_PORT_RANGE (%s, %d ports) is in use: a new camera cannot be served',
  },
  WEB_ERR_SEGMENTER_FAILED: { statusCode: 500, message: 'the HLS segmenter (ffmpeg) failed: %s' },
  WEB_ERR_START_CANCELLED: { statusCode: 409, message: 'the start was cancelled: %s' },
  WEB_ERR_SHUTTING_DOWN: { statusCode: 503, message: 'the service is shutting down' },
  WEB_ERR_WHEP_CONTENT_TYPE: {
    statusCode: 415,
    message: 'a WHEP offer is an SDP body with Content-Type application/sdp, not %s',
  },
  WEB_ERR_WHEP_BAD_OFFER: { statusCode: 400, message: 'the SDP offer cannot be answered: %s' },
  WEB_ERR_WHEP_NOT_STREAMING: {
    statusCode: 409,
    message: 'camera %s is not streaming: start it first (POST /api/cameras/%s/start), then send the offer',
  },
  WEB_ERR_WHEP_MAX_VIEWERS: {
    statusCode: 503,
    message: 'camera %s already has %d WebRTC viewers (WEBRTC_MAX_VIEWERS): watch over HLS, or try later',
  },
  WEB_ERR_WHEP_NO_PORT: { statusCode: 503, message: 'no UDP port for a WebRTC viewer: %s' },
  WEB_ERR_WHEP_UNKNOWN_SESSION: {
    statusCode: 404,
    message: 'no WebRTC session %s for camera %s: it ended, or never was',
  },
  WEB_ERR_WHEP_NO_TRICKLE: {
    statusCode: 405,
    message:
      'trickle ICE and ICE restarts (PATCH) are not supported: POST a complete offer (gathering finished), and a new one to restart',
  },
  WEB_ERR_UNAUTHORIZED: {
    statusCode: 401,
    message: '%s: send Authorization: Bearer <token> (AUTH_TOKENS), or a signed stream URL for /hls',
  },
  WEB_ERR_FORBIDDEN: { statusCode: 403, message: '%s' },
  WEB_ERR_RATE_LIMITED: { statusCode: 429, message: '%s: try again in %d s' },
  WEB_ERR_NOT_STREAMING: {
    statusCode: 409,
    message: 'camera %s is not streaming: start it first (POST /api/cameras/%s/start), then ask for %s again',
  },
  WEB_ERR_NO_SNAPSHOT: {
    statusCode: 404,
    message:
      'camera %s has no picture yet: start it (POST /api/cameras/%s/start); its last picture is kept after it stops',
  },
  WEB_ERR_SNAPSHOT_WIDTH: {
    statusCode: 400,
    message: '?width= is a whole number of pixels from 16 to 7680 (the picture is only scaled down), not %s',
  },
  WEB_ERR_RAW_MAX_READERS: {
    statusCode: 503,
    message: 'camera %s already has %d stream.ts readers (RAW_MAX_READERS): share one, or try later',
  },
  WEB_ERR_SNAPSHOT_FAILED: { statusCode: 500, message: 'the snapshot could not be decoded: %s' },
  WEB_ERR_RECORDING_OFF: {
    statusCode: 409,
    message: 'recordings are off (RECORD=off): set RECORD=on-demand or always to record',
  },
  WEB_ERR_UNKNOWN_RECORDING: { statusCode: 404, message: 'no recording %s (GET /api/recordings lists them)' },
  WEB_ERR_RECORDING_IN_PROGRESS: {
    statusCode: 409,
    message: 'recording %s is still being written: play its playlist now, download the MP4 once it ends',
  },
  WEB_ERR_RECORDING_DOWNLOAD: { statusCode: 500, message: 'the recording could not be made into an MP4: %s' },
  WEB_ERR_RECORDING_BUSY: {
    statusCode: 503,
    message: '%d MP4 downloads are being made already: try again in a moment',
  },
  WEB_ERR_INTERNAL: { statusCode: 500, message: 'internal error: %s' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.statusCode = ERRORS[code].statusCode;
  }
}

export function createError(code: ErrorCode, ...args: (string | number)[]): ServiceError {
  return new ServiceError(code, format(ERRORS[code].message, ...args));
}

export function isServiceError(err: unknown, code?: ErrorCode): err is ServiceError {
  return err instanceof ServiceError && (code === undefined || err.code === code);
}

/** A method was called on an object that is closed (mediasoup's InvalidStateError). */
export class InvalidStateError extends Error {
  override readonly name = 'InvalidStateError';
}

/** Any error as the protocol's ErrorBody; unknown errors become WEB_ERR_INTERNAL without details. */
export function toErrorBody(err: unknown): ErrorBody {
  const serviceError = isServiceError(err) ? err : createError('WEB_ERR_INTERNAL', 'see the service log');
  return {
    statusCode: serviceError.statusCode,
    code: serviceError.code,
    error: STATUS_CODES[serviceError.statusCode] ?? 'Error',
    message: serviceError.message,
  };
}
