/** The web service's HTTP API: response shapes shared by the service (as Fastify schemas) and the client. */
import Type, { type Static } from 'typebox';
import { CameraStatusSchema } from './schemas.js';

export const STREAM_PLAYLIST_NAME = 'stream.m3u8';
export const STREAM_URL = `/hls/${STREAM_PLAYLIST_NAME}`;

export const API_PATHS = {
  stream: '/api/stream',
  start: '/api/stream/start',
  stop: '/api/stream/stop',
  /** Server-sent events: a `stream` event with a StreamInfo each time it changes. */
  events: '/api/stream/events',
} as const;

/**
 * The service's view of the stream:
 * - `idle`: no segmenter, no files;
 * - `starting`: the camera was asked to start (or started on its own) and no segment is complete yet;
 * - `live`: the playlist lists at least one complete segment;
 * - `stopping`: the segmenter is being stopped and the files removed.
 */
export const STREAM_STATES = ['idle', 'starting', 'live', 'stopping'] as const;
export type StreamState = (typeof STREAM_STATES)[number];
export const StreamStateSchema = Type.Union(STREAM_STATES.map((s) => Type.Literal(s)));

export const StreamInfoSchema = Type.Object({
  state: StreamStateSchema,
  cameraId: Type.String(),
  /** The camera's retained status; null until the service has heard from the camera. */
  camera: Type.Union([CameraStatusSchema, Type.Null()]),
  /** Present while `live`. */
  streamUrl: Type.Optional(Type.String()),
  /** The last failure, until the next successful start. */
  lastError: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});
export type StreamInfo = Static<typeof StreamInfoSchema>;

export const StartResponseSchema = Type.Object({
  state: Type.Literal('live'),
  streamUrl: Type.String(),
});
export type StartResponse = Static<typeof StartResponseSchema>;

export const StopResponseSchema = Type.Object({ state: Type.Literal('idle') });
export type StopResponse = Static<typeof StopResponseSchema>;

/** Start and stop take no parameters: an empty body, `{}` or none. Unknown keys are a 400. */
export const EmptyBodySchema = Type.Object({}, { additionalProperties: false });

/** Every error answer, Fastify's usual shape with a stable `code` (listed in docs/errors.md). */
export const ErrorBodySchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
});
export type ErrorBody = Static<typeof ErrorBodySchema>;
