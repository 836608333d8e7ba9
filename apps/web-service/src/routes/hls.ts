/**
 * /hls/*: the playlist and its segments from HLS_DIR, for any player. Only names the segmenter makes
 * are served (names.ts); anything else, traversal included, is a 404 before the disk is touched.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { createError } from '../errors.js';
import { isServableName, PLAYLIST_NAME } from '../segmenter/names.js';

/** Segment names are never reused (a new stream id per segmenter run), so they can be cached for good. */
export const SEGMENT_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** The live playlist changes every segment: players must always revalidate. */
export const PLAYLIST_CACHE_CONTROL = 'no-cache';

export async function hlsRoutes(app: FastifyInstance, { hlsDir }: { hlsDir: string }): Promise<void> {
  // Only for reply.sendFile below (serve: false): the route decides what may be served.
  await app.register(fastifyStatic, {
    root: hlsDir,
    serve: false,
    dotfiles: 'deny',
    index: false,
    cacheControl: false,
    setHeaders: setHlsHeaders,
  });

  // Players on other pages and origins (hls.js elsewhere, a test page) may fetch the stream.
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('access-control-allow-origin', '*');
  });

  app.options('/hls/*', { logLevel: 'warn' }, async (_request, reply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
      .header('access-control-allow-headers', 'Range')
      .header('access-control-max-age', '86400')
      .send(),
  );

  app.get('/hls/*', { logLevel: 'warn' }, async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    if (!isServableName(name)) throw createError('WEB_ERR_NOT_FOUND', request.url);
    return reply.sendFile(name);
  });
}

function setHlsHeaders(reply: { header(name: string, value: string): unknown }, path: string): void {
  if (path.endsWith(PLAYLIST_NAME)) {
    reply.header('content-type', 'application/vnd.apple.mpegurl');
    reply.header('cache-control', PLAYLIST_CACHE_CONTROL);
  } else {
    reply.header('content-type', 'video/mp2t');
    reply.header('cache-control', SEGMENT_CACHE_CONTROL);
  }
}
