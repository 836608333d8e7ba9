/**
 * Pictures of a camera, for programs and plain `<img>` tags (outputs/pictures/):
 * - `GET …/snapshot.jpg[?width=N]`: the newest picture as a JPEG (the last one once stopped, with
 *   Last-Modified), 404 WEB_ERR_NO_SNAPSHOT if there never was one;
 * - `GET …/stream.mjpg`: MJPEG, `multipart/x-mixed-replace`, while the camera streams;
 * - `GET …/stream.ts`: the camera's H.264 in MPEG-TS, while the camera streams.
 * Per camera under `/api/cameras/<id>/`, and for the default camera under `/api/stream/`. The two
 * streams answer 409 WEB_ERR_NOT_STREAMING when the camera does not stream, and end when it stops.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_PATHS, cameraPaths } from '@camstream/protocol';
import type { Camera } from '../cameras/camera.js';
import type { CameraRegistry } from '../cameras/registry.js';
import { createError } from '../errors.js';
import type { PicturesOutput } from '../outputs/pictures/output.js';
import { lookUpCamera } from './cameras.js';

const MIN_WIDTH = 16;
const MAX_WIDTH = 7680;

type Params = { cameraId?: string };

/** `?width=`: absent, or a whole number of pixels in range; any other query key (but the door's
 * signed `token`) is a 400. */
export function parseWidth(query: Record<string, unknown>): number | undefined {
  const unknown = Object.keys(query).filter((key) => key !== 'width' && key !== 'token');
  if (unknown.length > 0) throw createError('WEB_ERR_BAD_REQUEST', `unknown query parameter ${unknown[0]}`);
  const raw = query.width;
  if (raw === undefined) return undefined;
  const width = typeof raw === 'string' && /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(width >= MIN_WIDTH && width <= MAX_WIDTH))
    throw createError('WEB_ERR_SNAPSHOT_WIDTH', JSON.stringify(raw));
  return width;
}

export function pictureRoutes(app: FastifyInstance, registry: CameraRegistry): void {
  const cameraOf = (request: FastifyRequest): Camera => {
    const { cameraId } = request.params as Params;
    return cameraId === undefined ? registry.default : lookUpCamera(registry, { cameraId });
  };
  const picturesOf = (request: FastifyRequest): PicturesOutput => {
    const pictures = cameraOf(request).pictures;
    if (!pictures) throw createError('WEB_ERR_NOT_FOUND', request.url);
    return pictures;
  };
  // Watching, not operating; a signed stream URL's ?token= is taken too, since an <img> tag, VLC
  // or OpenCV cannot send an Authorization header (the door checks it before the route runs).
  const options = { config: { access: 'watch' as const, signedUrl: true } };

  const snapshot = async (request: FastifyRequest, reply: FastifyReply) => {
    const width = parseWidth(request.query as Record<string, unknown>);
    const { jpeg, at } = await picturesOf(request).snapshot(width);
    return reply
      .header('content-type', 'image/jpeg')
      .header('cache-control', 'no-cache, no-store')
      .header('last-modified', at.toUTCString())
      .send(jpeg);
  };

  const live =
    (what: 'stream.mjpg' | 'stream.ts') => async (request: FastifyRequest, reply: FastifyReply) => {
      if (Object.keys(request.query as object).some((key) => key !== 'token')) {
        throw createError('WEB_ERR_BAD_REQUEST', `${what} takes no query parameters but token`);
      }
      const pictures = picturesOf(request);
      pictures.assertStreaming(what);
      if (what === 'stream.ts') pictures.assertRawTsRoom();
      // The response is written as pictures come, by the output, for as long as the stream lasts.
      reply.hijack();
      if (what === 'stream.mjpg') pictures.watchMjpeg(reply.raw);
      else pictures.readRawTs(reply.raw);
    };

  for (const paths of [cameraPaths(':cameraId'), API_PATHS]) {
    app.get(paths.snapshot, options, snapshot);
    app.get(paths.mjpeg, options, live('stream.mjpg'));
    app.get(paths.rawTs, options, live('stream.ts'));
  }
}
