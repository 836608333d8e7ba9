/** The web service's HTTP API: response shapes shared by the service (as Fastify schemas) and the client. */
import Type, { type Static } from 'typebox';
import { CameraStatusSchema } from './schemas.js';

export const StreamStateSchema = Type.Union([
  Type.Literal('idle'),
  Type.Literal('starting'),
  Type.Literal('live'),
  Type.Literal('stopping'),
]);

export const StreamInfoSchema = Type.Object({
  state: StreamStateSchema,
  cameraId: Type.String(),
  /** The camera's retained status; null until the service has heard from the camera. */
  camera: Type.Union([CameraStatusSchema, Type.Null()]),
  /** Present while `live`. */
  streamUrl: Type.Optional(Type.String()),
  /**
   * How the service packages the stream: `ll` Low-Latency HLS (parts, blocking reloads), `plain`
   * HLS. Players may choose their settings by it; both are served at `streamUrl`.
   */
  hlsMode: Type.Optional(Type.Union([Type.Literal('ll'), Type.Literal('plain')])),
  /**
   * While live: whether the camera's video is arriving at the service. `silent`: nothing for
   * INPUT_SILENCE_MS (a network drop, an encoder being restarted); players keep the stream and it
   * goes on by itself when the video comes back. `since`: when this state began (ISO time).
   */
  input: Type.Optional(
    Type.Object({
      state: Type.Union([Type.Literal('receiving'), Type.Literal('silent')]),
      since: Type.String(),
    }),
  ),
  /** The last failure, until the next successful start. */
  lastError: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  /**
   * Where the service receives this camera's MPEG-TS (`udp://host:port`) and how it knows the
   * camera: `configured` (CAMERA_ID/UDP_LISTEN or CAMERAS) or `discovered` (it announced itself on
   * the broker). Present on every camera the service serves.
   */
  ingest: Type.Optional(Type.String()),
  origin: Type.Optional(Type.Union([Type.Literal('configured'), Type.Literal('discovered')])),
});
export type StreamInfo = Static<typeof StreamInfoSchema>;

/** `GET /api/cameras`: every camera the service serves, the default camera first, then by id. */
export const CameraListSchema = Type.Object({
  cameras: Type.Array(StreamInfoSchema),
});
export type CameraList = Static<typeof CameraListSchema>;

/** The `removed` event of `/api/cameras/events`. */
export const CameraRemovedSchema = Type.Object({ cameraId: Type.String() });
export type CameraRemoved = Static<typeof CameraRemovedSchema>;

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

/**
 * The `<id>` of a camera route. Not a pattern on purpose: an id that could not be a camera answers
 * 404 like an unknown one (the service checks it with isValidCameraId), not 400.
 */
export const CameraParamsSchema = Type.Object({ cameraId: Type.String() }, { additionalProperties: false });
export type CameraParams = Static<typeof CameraParamsSchema>;
