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
  /**
   * Present when the service records (RECORD=on-demand or always): whether this camera records its
   * stream (now, or from the stream's next keyframe). Server-sent events carry every change of it.
   */
  recording: Type.Optional(Type.Boolean()),
  /** While `recording` and `live`: since when (ISO time), for an elapsed-time display. */
  recordingSince: Type.Optional(Type.String()),
  /**
   * While `recording` and `live`, once the recording's first keyframe came: the id of the recording
   * being written. A stream recorded past RECORD_MAX_SECONDS is cut into recordings: a new id, sent
   * once the one before is closed (listed finished), so a client fetches the list again then.
   */
  recordingId: Type.Optional(Type.String()),
  /**
   * Present with `recording`: `on-demand` (a start's `"record"` turns it on and off, also on a live
   * stream) or `always` (every stream is recorded; `"record"` changes nothing).
   */
  recordMode: Type.Optional(Type.Union([Type.Literal('on-demand'), Type.Literal('always')])),
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

/**
 * A start's body: none, `{}`, or `{ "record": true }` (record this stream, RECORD=on-demand) or
 * `{ "record": false }` (stop recording it; the stream goes on). Unknown keys are a 400.
 */
export const StartBodySchema = Type.Object(
  { record: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type StartBody = Static<typeof StartBodySchema>;

/** One recording (`GET /api/recordings`): a camera's stream written to disk, from a start to a stop. */
export const RecordingSchema = Type.Object({
  /** `<camera>~<YYYY-MM-DD>~<HH-MM-SS.mmm>Z`: the camera and the start time (UTC). */
  id: Type.String(),
  cameraId: Type.String(),
  /** ISO times. `end`: the last segment's end so far, while `recording`. */
  start: Type.String(),
  end: Type.String(),
  /** Seconds of video. */
  duration: Type.Number(),
  /** Bytes on disk. */
  bytes: Type.Integer(),
  /** Still being written (its playlist is an EVENT playlist until it ends, then VOD). */
  recording: Type.Boolean(),
  /** The VOD playlist (hls.js, Safari, VLC) and the one-MP4 download. */
  playlistUrl: Type.String(),
  mp4Url: Type.String(),
});
export type Recording = Static<typeof RecordingSchema>;

/** `GET /api/recordings`: oldest first. */
export const RecordingListSchema = Type.Object({ recordings: Type.Array(RecordingSchema) });
export type RecordingList = Static<typeof RecordingListSchema>;

/** `GET /api/recordings?camera=&from=&to=`: a camera, and recordings that overlap [from, to] (ISO times). */
export const RecordingQuerySchema = Type.Object(
  {
    camera: Type.Optional(Type.String()),
    from: Type.Optional(Type.String()),
    to: Type.Optional(Type.String()),
    token: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type RecordingQuery = Static<typeof RecordingQuerySchema>;

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
