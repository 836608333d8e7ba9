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

export const API_PATHS = {
  stream: '/api/stream',
  start: '/api/stream/start',
  stop: '/api/stream/stop',
  /** Server-sent events: a `stream` event with a StreamInfo each time it changes. */
  events: '/api/stream/events',
} as const;
