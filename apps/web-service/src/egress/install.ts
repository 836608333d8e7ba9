/**
 * HLS_WORKERS in the app: once the server listens, the workers are forked and the cameras'
 * packagers fed to them; at shutdown they stop after the packagers' last update (which ends their
 * held requests) and the service waits for their exit.
 */
import type { FastifyInstance } from 'fastify';
import type { CameraRegistry } from '../cameras/registry.js';
import { PackagerFeed } from './feed.js';
import { EgressWorkers } from './workers.js';

export interface EgressOptions {
  readonly count: number;
  /** The cameras, once the app is ready. */
  readonly cameras: () => CameraRegistry | undefined;
  readonly defaultCameraId: string;
  /** The fast path's base headers (routes/hls-fast.ts's hlsBaseHeaders); undefined: no fast path. */
  readonly baseHeaders: readonly string[] | undefined;
  /** Tokens are required: every /hls request is the door's to judge, in the service. */
  readonly tokensRequired: boolean;
}

export interface Egress {
  /** Undefined with HLS_WORKERS=0, and until the server listens. */
  readonly workers: EgressWorkers | undefined;
}

export function installEgress(app: FastifyInstance, options: EgressOptions): Egress {
  const egress: { workers: EgressWorkers | undefined } = { workers: undefined };
  if (options.count === 0) return egress;
  let feed: PackagerFeed | undefined;

  app.addHook('onListen', async () => {
    const cameras = options.cameras();
    if (!cameras || egress.workers) return;
    const log = app.log;
    const debug = log.level === 'debug' || log.level === 'trace'; // the access log: the service writes it
    feed = new PackagerFeed((message) => egress.workers?.broadcast(message));
    for (const camera of cameras.list()) if (camera.packager) feed.add(camera.id, camera.packager);
    cameras.on('added', (camera) => camera.packager && feed?.add(camera.id, camera.packager));
    cameras.on('removed', (cameraId) => feed?.remove(cameraId));
    egress.workers = new EgressWorkers({
      count: options.count,
      server: app.server,
      settings: {
        type: 'settings',
        defaultCameraId: options.defaultCameraId,
        baseHeaders: options.baseHeaders ?? [],
        keepAliveTimeoutMs: app.server.keepAliveTimeout,
        handOffAll: options.tokensRequired || debug || options.baseHeaders === undefined,
      },
      snapshot: () => feed?.snapshot() ?? [],
      log,
    });
    log.info({ workers: options.count, pids: egress.workers.pids }, 'LL-HLS egress workers started');
  });

  // After the app's own preClose (the packagers cleared): their last update, then the stop.
  app.addHook('preClose', async () => {
    feed?.flush();
    egress.workers?.stop();
  });
  app.addHook('onClose', async () => {
    feed?.close();
    await egress.workers?.close();
  });
  return egress;
}
