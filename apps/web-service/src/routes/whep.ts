/**
 * WHEP (draft-ietf-wish-whep): a viewer POSTs an SDP offer and gets `201 Created`, the SDP answer
 * and a `Location` for its session; DELETE on that Location ends it. Per camera under
 * `/api/cameras/<id>/whep`, and for the default camera under `/api/stream/whep`. The answer carries
 * every candidate, so trickle ICE and ICE restarts are not offered: PATCH answers 405. CORS is open,
 * so a page on another origin can play (and read Location). Errors are the service's coded JSON;
 * a refused offer leaves nothing open.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_PATHS, cameraPaths } from '@camstream/protocol';
import type { Camera } from '../cameras/camera.js';
import type { CameraRegistry } from '../cameras/registry.js';
import { createError } from '../errors.js';
import type { WebRtcOutput } from '../outputs/webrtc/output.js';
import { lookUpCamera } from './cameras.js';

/** An SDP offer is a few kB; browsers with many codecs and candidates stay well under this. */
export const MAX_OFFER_BYTES = 64 * 1024;

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, DELETE, PATCH, OPTIONS',
  'access-control-allow-headers': 'content-type, authorization, if-match',
  'access-control-expose-headers': 'location, accept-patch',
  'access-control-max-age': '600',
};

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface WhepOptions {
  readonly registry: CameraRegistry;
}

type Params = { cameraId?: string; sessionId?: string };

export async function whepRoutes(scope: FastifyInstance, { registry }: WhepOptions): Promise<void> {
  // The body is read as text whatever its type: the handler answers a wrong one with 415 (rather
  // than Fastify's parsers answering 400 for, say, malformed JSON).
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_OFFER_BYTES }, (_request, body, done) =>
    done(null, body),
  );
  scope.addHook('onSend', async (_request, reply) => {
    reply.headers(CORS);
  });

  const cameraOf = (params: Params): Camera =>
    params.cameraId === undefined ? registry.default : lookUpCamera(registry, { cameraId: params.cameraId });
  const base = (camera: Camera, params: Params) =>
    params.cameraId === undefined ? API_PATHS.whep : cameraPaths(camera.id).whep;

  const offer = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = request.params as Params;
    const camera = cameraOf(params);
    const type = request.headers['content-type'];
    if (type?.split(';')[0]!.trim().toLowerCase() !== 'application/sdp') {
      throw createError('WEB_ERR_WHEP_CONTENT_TYPE', type === undefined ? 'none' : JSON.stringify(type));
    }
    const body = typeof request.body === 'string' ? request.body : '';
    const { session, answer } = await webrtcOf(camera).open(body);
    return reply
      .code(201)
      .header('content-type', 'application/sdp')
      .header('location', `${base(camera, params)}/${session.id}`)
      .send(answer);
  };

  const end = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = request.params as Params;
    const camera = cameraOf(params);
    const session = sessionOf(camera, params.sessionId!);
    await session.close('the viewer sent DELETE');
    return reply.code(200).send();
  };

  const patch = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = request.params as Params;
    sessionOf(cameraOf(params), params.sessionId!);
    reply.header('allow', 'DELETE, OPTIONS');
    throw createError('WEB_ERR_WHEP_NO_TRICKLE');
  };

  const preflight = async (_request: FastifyRequest, reply: FastifyReply) => reply.code(204).send();

  for (const prefix of [cameraPaths(':cameraId').whep, API_PATHS.whep]) {
    // Watching: a viewer token opens and ends its WebRTC sessions (door/guard.ts).
    const watch = { config: { access: 'watch' as const } };
    scope.post(prefix, watch, offer);
    scope.options(prefix, preflight);
    scope.delete(`${prefix}/:sessionId`, watch, end);
    scope.patch(`${prefix}/:sessionId`, watch, patch);
    scope.options(`${prefix}/:sessionId`, preflight);
  }
}

function webrtcOf(camera: Camera): WebRtcOutput {
  // Routes are registered only with WEBRTC=on, when every camera has the output.
  if (!camera.webrtc) throw createError('WEB_ERR_NOT_FOUND', 'WebRTC is off (WEBRTC=off)');
  return camera.webrtc;
}

function sessionOf(camera: Camera, sessionId: string) {
  const session = SESSION_ID.test(sessionId) ? webrtcOf(camera).get(sessionId) : undefined;
  if (!session) throw createError('WEB_ERR_WHEP_UNKNOWN_SESSION', JSON.stringify(sessionId), camera.id);
  return session;
}
