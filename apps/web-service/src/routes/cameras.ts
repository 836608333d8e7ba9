/**
 * The per-camera API: `GET /api/cameras`, and for each camera `GET /api/cameras/<id>`,
 * `POST /api/cameras/<id>/start` and `/stop`, answering as the first contract's /api/stream routes
 * do for the default camera (stream.ts), with the camera's own stream URL `/hls/<id>/stream.m3u8`.
 * An id that is not a camera here, or could not be one, is a 404 WEB_ERR_UNKNOWN_CAMERA before it
 * reaches a path or a topic.
 */
import type { FastifyInstance } from 'fastify';
import {
  API_PATHS,
  CameraListSchema,
  CameraParamsSchema,
  EmptyBodySchema,
  ErrorBodySchema,
  isValidCameraId,
  STREAM_URL,
  StartBodySchema,
  StartResponseSchema,
  StopResponseSchema,
  StreamInfoSchema,
  type CameraList,
  type StartBody,
  type StartResponse,
  type StopResponse,
  type StreamInfo,
} from '@camstream/protocol';
import type { Camera } from '../cameras/camera.js';
import type { CameraRegistry } from '../cameras/registry.js';
import { createError } from '../errors.js';

export const errorResponses = { '4xx': ErrorBodySchema, '5xx': ErrorBodySchema };

export const cameraParams = CameraParamsSchema;

export function lookUpCamera(registry: CameraRegistry, { cameraId }: { cameraId: string }): Camera {
  const camera = isValidCameraId(cameraId) ? registry.get(cameraId) : undefined;
  if (!camera) throw createError('WEB_ERR_UNKNOWN_CAMERA', JSON.stringify(cameraId));
  return camera;
}

/** The default camera as the first contract's routes describe it: served at /hls/stream.m3u8. */
export function asFirstContract(info: StreamInfo): StreamInfo {
  return info.streamUrl === undefined ? info : { ...info, streamUrl: STREAM_URL };
}

/**
 * Start and stop take no parameters: no body, or `{}`, and no query string (`?camera=cam2` would
 * otherwise be ignored without a word). Anything else is a 400.
 */
export const commandOptions = {
  // Operators only (door/guard.ts), and rate-limited per address (door/headers.ts).
  config: { access: 'operate' as const, rateLimit: {} },
  preValidation: async (request: { body: unknown }) => {
    // No body (the JSON parser reads an empty one as none too). `null` is a body, and not `{}`.
    if (request.body === undefined) request.body = {};
  },
};
export const commandParameters = { querystring: EmptyBodySchema, body: EmptyBodySchema };
/** A start takes `{ "record": true | false }` too (docs/recordings.md). */
export const startParameters = { querystring: EmptyBodySchema, body: StartBodySchema };

/**
 * Starts the camera's stream; `record` (RECORD=on-demand) records it, or stops recording it. Asked
 * before the start so the recording begins at the stream's first keyframe.
 */
export async function startCamera(camera: Camera, { record }: StartBody): Promise<void> {
  if (record !== undefined && !camera.recordings) throw createError('WEB_ERR_RECORDING_OFF');
  // Asked now (the flag changes at once): the start's `change` events already say `recording`.
  const recorded = record !== undefined ? camera.record(record) : undefined;
  try {
    await camera.streams.start();
  } catch (err) {
    if (record === true) void camera.record(false);
    throw err;
  }
  await recorded;
}

export function cameraRoutes(app: FastifyInstance, registry: CameraRegistry): void {
  app.get(
    API_PATHS.cameras,
    { schema: { querystring: EmptyBodySchema, response: { 200: CameraListSchema, ...errorResponses } } },
    async (): Promise<CameraList> => ({ cameras: registry.list().map((camera) => camera.info()) }),
  );

  const one = `${API_PATHS.cameras}/:cameraId`;
  app.get(
    one,
    { schema: { params: cameraParams, response: { 200: StreamInfoSchema, ...errorResponses } } },
    async (request) => lookUpCamera(registry, request.params as { cameraId: string }).info(),
  );

  app.post(
    `${one}/start`,
    {
      ...commandOptions,
      schema: {
        params: cameraParams,
        ...startParameters,
        response: { 200: StartResponseSchema, ...errorResponses },
      },
    },
    async (request): Promise<StartResponse> => {
      const camera = lookUpCamera(registry, request.params as { cameraId: string });
      await startCamera(camera, request.body as StartBody);
      return { state: 'live', streamUrl: camera.info().streamUrl! };
    },
  );

  app.post(
    `${one}/stop`,
    {
      ...commandOptions,
      schema: {
        params: cameraParams,
        ...commandParameters,
        response: { 200: StopResponseSchema, ...errorResponses },
      },
    },
    async (request): Promise<StopResponse> => {
      await lookUpCamera(registry, request.params as { cameraId: string }).streams.stop();
      return { state: 'idle' };
    },
  );
}
