/**
 * The built web client at /. Without a build, / explains how to make one instead of a bare 404.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export async function clientRoutes(
  app: FastifyInstance,
  { clientDir }: { clientDir: string },
): Promise<void> {
  if (!existsSync(join(clientDir, 'index.html'))) {
    app.log.warn({ clientDir }, 'no built web client: / shows a note (run `npm run build`)');
    app.get('/', { config: { access: 'public' } }, async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><title>camstream</title><p>The web client is not built. ' +
            'Run <code>npm run build</code>, then reload. The API is at <code>/api/stream</code>, ' +
            'the stream at <code>/hls/stream.m3u8</code>.</p>',
        ),
    );
    return;
  }
  // The client's files are public (door/guard.ts): the sign-in screen is one of them.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, access: 'public' };
  });
  await app.register(fastifyStatic, {
    root: clientDir,
    prefix: '/',
    // The HLS registration decorates reply.sendFile; only one registration may.
    decorateReply: false,
    dotfiles: 'ignore',
    cacheControl: false,
    logLevel: 'warn',
    setHeaders: (reply, path) => {
      // Vite puts content-hashed files in assets/; everything else (index.html) must revalidate.
      const hashed = path.includes(`${join(clientDir, 'assets')}`);
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
