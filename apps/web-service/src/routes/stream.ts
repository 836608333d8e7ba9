/** The stream API: its state, start and stop. Shapes come from the protocol package. */
import type { FastifyInstance } from 'fastify';
import {
  API_PATHS,
  EmptyBodySchema,
  ErrorBodySchema,
  STREAM_URL,
  StartResponseSchema,
  StopResponseSchema,
  StreamInfoSchema,
  type StartResponse,
  type StopResponse,
} from '@camstream/protocol';
import type { StreamManager } from '../stream/stream-manager.js';

const errors = { '4xx': ErrorBodySchema, '5xx': ErrorBodySchema };

export function streamRoutes(app: FastifyInstance, streams: StreamManager): void {
  app.get(API_PATHS.stream, { schema: { response: { 200: StreamInfoSchema, ...errors } } }, async () =>
    streams.info(),
  );

  // Start and stop take no parameters: no body, or `{}`, and no query string (`?camera=cam2` would
  // otherwise be ignored without a word). Anything else is a 400.
  const command = {
    preValidation: async (request: { body: unknown }) => {
      // No body (the JSON parser reads an empty one as none too). `null` is a body, and not `{}`.
      if (request.body === undefined) request.body = {};
    },
  };
  const parameters = { querystring: EmptyBodySchema, body: EmptyBodySchema };

  app.post(
    API_PATHS.start,
    { ...command, schema: { ...parameters, response: { 200: StartResponseSchema, ...errors } } },
    async (): Promise<StartResponse> => {
      await streams.start();
      return { state: 'live', streamUrl: STREAM_URL };
    },
  );

  app.post(
    API_PATHS.stop,
    { ...command, schema: { ...parameters, response: { 200: StopResponseSchema, ...errors } } },
    async (): Promise<StopResponse> => {
      await streams.stop();
      return { state: 'idle' };
    },
  );
}
