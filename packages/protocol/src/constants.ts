/**
 * Plain constants and the types they define. No TypeBox here: the web client imports this much and,
 * with `sideEffects: false`, its bundle carries none of the schema machinery.
 */

export const CAMERA_STATES = ['offline', 'idle', 'starting', 'streaming', 'error'] as const;
export type CameraState = (typeof CAMERA_STATES)[number];

export const CONTROL_ACTIONS = ['start', 'stop'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

/**
 * The service's view of the stream:
 * - `idle`: no segmenter, no files;
 * - `starting`: the camera was asked to start (or started on its own) and no segment is complete yet;
 * - `live`: the playlist lists at least one complete segment;
 * - `stopping`: the segmenter is being stopped and the files removed.
 */
export const STREAM_STATES = ['idle', 'starting', 'live', 'stopping'] as const;
export type StreamState = (typeof STREAM_STATES)[number];

export const STREAM_PLAYLIST_NAME = 'stream.m3u8';
export const STREAM_URL = `/hls/${STREAM_PLAYLIST_NAME}`;

/** The default camera's routes (the first contract; they stay). */
export const API_PATHS = {
  stream: '/api/stream',
  start: '/api/stream/start',
  stop: '/api/stream/stop',
  /** Server-sent events: a `stream` event with a StreamInfo each time it changes. */
  events: '/api/stream/events',
  /** Every camera: `{ cameras: StreamInfo[] }`. */
  cameras: '/api/cameras',
  /**
   * Server-sent events for every camera: a `camera` event with a camera's StreamInfo each time it
   * changes (and each camera's on connect), a `removed` event `{ cameraId }` when one goes away.
   */
  camerasEvents: '/api/cameras/events',
  /**
   * Recordings: GET lists them (`?camera=&from=&to=`); `/<id>/playlist.m3u8` plays one (VOD),
   * `/<id>.mp4` downloads it as one MP4, DELETE `/<id>` removes it (operators).
   */
  recordings: '/api/recordings',
  /**
   * WHEP (WebRTC playback) of the default camera: POST an SDP offer (application/sdp) → 201, the
   * answer, `Location: /api/stream/whep/<session>`; DELETE that Location ends it (README, WebRTC).
   */
  whep: '/api/stream/whep',
  /** The default camera's newest picture (JPEG, `?width=` scales down); its MJPEG; its raw MPEG-TS. */
  snapshot: '/api/stream/snapshot.jpg',
  mjpeg: '/api/stream/stream.mjpg',
  rawTs: '/api/stream/stream.ts',
} as const;

export interface CameraPaths {
  /** GET: the camera's StreamInfo, as `GET /api/stream` is the default camera's. */
  readonly info: string;
  readonly start: string;
  readonly stop: string;
  /** Server-sent events: a `stream` event with the camera's StreamInfo each time it changes. */
  readonly events: string;
  /** Where its stream is served while live. */
  readonly streamUrl: string;
  /** WHEP: POST an SDP offer here; the answer's `Location` (`<whep>/<session>`) is DELETEd to end it. */
  readonly whep: string;
  /** GET: the newest picture as a JPEG (`?width=` scales down), the last one once stopped. */
  readonly snapshot: string;
  /** GET: MJPEG (`multipart/x-mixed-replace`) while streaming, for `<img>`, OpenCV, Home Assistant. */
  readonly mjpeg: string;
  /** GET: the camera's H.264 in MPEG-TS while streaming, for ffmpeg, VLC, OpenCV, recorders. */
  readonly rawTs: string;
}

/** A camera's routes. The id must be valid (isValidCameraId): it becomes one path segment as is. */
export function cameraPaths(cameraId: string): CameraPaths {
  const base = `${API_PATHS.cameras}/${cameraId}`;
  return {
    info: base,
    start: `${base}/start`,
    stop: `${base}/stop`,
    events: `${base}/events`,
    streamUrl: `/hls/${cameraId}/${STREAM_PLAYLIST_NAME}`,
    whep: `${base}/whep`,
    snapshot: `${base}/snapshot.jpg`,
    mjpeg: `${base}/stream.mjpg`,
    rawTs: `${base}/stream.ts`,
  };
}

/** A recording's URLs, from its id (RecordingSchema). */
export function recordingPaths(id: string): {
  readonly playlist: string;
  readonly mp4: string;
  readonly one: string;
} {
  const one = `${API_PATHS.recordings}/${encodeURIComponent(id)}`;
  return { one, playlist: `${one}/playlist.m3u8`, mp4: `${one}.mp4` };
}
