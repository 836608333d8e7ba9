/**
 * The first contract's stream API, the default camera's: its state, start and stop. Shapes come from
 * the protocol package; the per-camera routes (cameras.ts) answer the same way for every camera.
 */
import type { FastifyInstance } from 'fastify';
import {
  API_PATHS,
  STREAM_URL,
  StartResponseSchema,
  StopResponseSchema,
  StreamInfoSchema,
  type StartBody,
  type StartResponse,
  type StopResponse,
} from '@camstream/protocol';
import type { Camera } from '../cameras/camera.js';
import {
  asFirstContract,
  commandOptions,
  commandParameters,
  errorResponses,
  startCamera,
  startParameters,
} from './cameras.js';

export function streamRoutes(app: FastifyInstance, camera: Camera): void {
  app.get(
    API_PATHS.stream,
    { schema: { response: { 200: StreamInfoSchema, ...errorResponses } } },
    async () => asFirstContract(camera.info()),
  );

  app.post(
    API_PATHS.start,
    {
      ...commandOptions,
      schema: { ...startParameters, response: { 200: StartResponseSchema, ...errorResponses } },
    },
    async (request): Promise<StartResponse> => {
      await startCamera(camera, request.body as StartBody);
      return { state: 'live', streamUrl: STREAM_URL };
    },
  );

  app.post(
    API_PATHS.stop,
    {
      ...commandOptions,
      schema: { ...commandParameters, response: { 200: StopResponseSchema, ...errorResponses } },
    },
    async (): Promise<StopResponse> => {
      await camera.streams.stop();
      return { state: 'idle' };
    },
  );
}
