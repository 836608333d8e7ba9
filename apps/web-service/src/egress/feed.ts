/**
 * The service's side of the egress mirror: each LL-HLS packager watched, and on each of its
 * updates (once per tick, when the update is whole) one message to every worker: the playlist
 * version (model and both rendered variants, the same Buffers the service answers with), the
 * names a request may be held for, and the media added and removed since the last update.
 */
import { hlsCacheControl } from '../routes/hls.js';
import type { LlHlsPackager } from '../outputs/ll-hls/packager.js';
import type { CameraMessage, ToWorker, UpdateMessage } from './messages.js';

interface Watched {
  readonly camera: CameraMessage;
  readonly packager: LlHlsPackager;
  readonly unwatch: () => void;
  /** The media names the workers hold (as of the last update sent). */
  known: Set<string>;
  pending: boolean;
}

export class PackagerFeed {
  readonly #send: (message: ToWorker) => void;
  readonly #watched = new Map<string, Watched>();

  /** `send`: to every worker. */
  constructor(send: (message: ToWorker) => void) {
    this.#send = send;
  }

  add(cameraId: string, packager: LlHlsPackager): void {
    this.remove(cameraId);
    const camera: CameraMessage = {
      type: 'camera',
      cameraId,
      holdMs: packager.holdMs,
      cacheControl: {
        media: hlsCacheControl('media'),
        playlist: hlsCacheControl('playlist'),
        blocking: hlsCacheControl('blocking-playlist', { targetDuration: packager.targetDuration }),
      },
    };
    const watched: Watched = {
      camera,
      packager,
      known: new Set(),
      pending: false,
      unwatch: packager.watch(() => {
        if (watched.pending) return;
        watched.pending = true;
        // The update is whole once the packager's current call returns (as its waiters see it).
        queueMicrotask(() => this.#flush(watched));
      }),
    };
    this.#watched.set(cameraId, watched);
    this.#send(camera);
    this.#flush(watched, true);
  }

  remove(cameraId: string): void {
    const watched = this.#watched.get(cameraId);
    if (!watched) return;
    watched.unwatch();
    this.#watched.delete(cameraId);
    this.#send({ type: 'camera-gone', cameraId });
  }

  /** Sends the updates waiting for their microtask now (before a `stop`, which must follow them). */
  flush(): void {
    for (const watched of this.#watched.values()) if (watched.pending) this.#flush(watched);
  }

  /** What a new worker needs: every camera and its packager's state now. */
  snapshot(): ToWorker[] {
    const messages: ToWorker[] = [];
    for (const watched of this.#watched.values()) {
      messages.push(watched.camera, this.#update(watched, new Set(), false));
    }
    return messages;
  }

  close(): void {
    for (const watched of this.#watched.values()) watched.unwatch();
    this.#watched.clear();
  }

  #flush(watched: Watched, force = false): void {
    if (!watched.pending && !force) return;
    watched.pending = false;
    if (this.#watched.get(watched.camera.cameraId) !== watched) return;
    this.#send(this.#update(watched, watched.known, true));
  }

  /** The packager's state as an update to a worker that holds `known`. */
  #update(watched: Watched, known: ReadonlySet<string>, remember: boolean): UpdateMessage {
    const { packager } = watched;
    const added: [string, Buffer][] = [];
    const now = new Set<string>();
    for (const [name, bytes] of packager.resources()) {
      now.add(name);
      if (!known.has(name)) added.push([name, bytes]);
    }
    const removed: string[] = [];
    for (const name of known) if (!now.has(name)) removed.push(name);
    if (remember) watched.known = now;
    const model = packager.model();
    return {
      type: 'update',
      cameraId: watched.camera.cameraId,
      sentAt: Date.now(),
      model,
      full: model && packager.playlistBytes({ skip: false }),
      delta: model && packager.playlistBytes({ skip: true }),
      nextParts: packager.nextParts(),
      added,
      removed,
    };
  }
}
