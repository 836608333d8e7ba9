/**
 * A listening service whose default camera's LL-HLS packager is fed real fMP4 from memory (the steady
 * stream's numbering: 1 s segments from msn 0, as routes-llhls.test.ts has it), and what the tests of
 * its answers on a socket compare them with: the route's own answer through app.inject().
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { LlHlsPackager } from '../../src/outputs/ll-hls/packager.js';
import { startTestApp } from './app.js';
import { packager, Run } from './packager-run.js';
import type { Cleanup } from '../../../../test/helpers/cleanup.js';

/** Headers Node's server adds on a socket (and inject does not): not the route's. */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

export function routeHeaders(headers: IncomingHttpHeaders | Record<string, unknown>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (!TRANSPORT.has(name) && value !== undefined) kept[name] = String(value);
  return kept;
}

/** The route's answer through app.inject(), its headers as routeHeaders keeps them. */
export async function injectGet(app: FastifyInstance, path: string, headers: Record<string, string> = {}) {
  const answer = await app.inject({ url: path, headers });
  return { status: answer.statusCode, headers: routeHeaders(answer.headers), body: answer.rawPayload };
}

export interface Live {
  app: FastifyInstance;
  port: number;
  packager: LlHlsPackager;
  streamId: string;
  frames(count: number): void;
}

/**
 * The app (HLS_MODE=ll and `env`), its default camera's packager replaced by one fed from `media`
 * (segments 0 and 1 complete, segment 2 open with part 0), then listening on loopback. The packager
 * is in place before the server listens: egress workers (HLS_WORKERS) are fed the one there then.
 */
export async function startLive(
  cleanup: Cleanup,
  media: { init: Buffer; fragments: Buffer[] },
  env: Record<string, string> = {},
): Promise<Live> {
  const { app } = await startTestApp(cleanup, { HLS_MODE: 'll', ...env });
  const p = packager();
  // /hls reads `camera.packager` on every request: this one is fed from memory (held.ts does the same).
  Object.defineProperty(app.camstream.cameras.default, 'packager', { value: p });
  cleanup.add(() => p.clear()); // held requests answer, so the app can close
  const run = new Run(p, media);
  run.frames(70); // frames 60-65: segment 2's part 0
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    port: (app.server.address() as AddressInfo).port,
    packager: p,
    streamId: run.streamId,
    frames: (count) => run.frames(count),
  };
}
