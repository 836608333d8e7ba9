/**
 * What the service and its egress workers (HLS_WORKERS) say to each other over the IPC channel
 * (`serialization: 'advanced'`: Buffers cross as Buffers, without JSON). Types only.
 */
import type { PlaylistModel } from '../outputs/ll-hls/model.js';

/** How a worker answers: what the service's fast path writes besides the body (routes/hls-fast.ts). */
export interface WorkerSettings {
  readonly type: 'settings';
  /** The camera of /hls/<name>. */
  readonly defaultCameraId: string;
  /** Headers every /hls answer carries, flat (name, value, …): helmet's and CORS's. */
  readonly baseHeaders: readonly string[];
  /** The service's keepAliveTimeout, ms (Node's `Keep-Alive: timeout=` and its idle limit). */
  readonly keepAliveTimeoutMs: number;
  /** Hand off every request (tokens configured, or the access log at debug: the service judges all). */
  readonly handOffAll: boolean;
}

/** A camera with an LL-HLS packager, once (before its first update). */
export interface CameraMessage {
  readonly type: 'camera';
  readonly cameraId: string;
  /** How long a blocking reload or hinted part is held, ms (the packager's holdMs). */
  readonly holdMs: number;
  /** Cache-Control of each kind of answer (routes/hls.ts's hlsCacheControl, unauthorized). */
  readonly cacheControl: { readonly media: string; readonly playlist: string; readonly blocking: string };
}

/** A packager's update: its playlist version and the media added and removed since the last. */
export interface UpdateMessage {
  readonly type: 'update';
  readonly cameraId: string;
  /** When the service sent it (Date.now(): the same machine's clock): how far behind a worker is. */
  readonly sentAt: number;
  /** Undefined: no stream (nothing listed yet, or stopped). */
  readonly model: PlaylistModel | undefined;
  readonly full: Buffer | undefined;
  readonly delta: Buffer | undefined;
  /** Part names a request is held for (the packager's nextParts). */
  readonly nextParts: readonly string[];
  readonly added: readonly (readonly [string, Buffer])[];
  readonly removed: readonly string[];
}

export interface CameraGoneMessage {
  readonly type: 'camera-gone';
  readonly cameraId: string;
}

export type ToWorker =
  | WorkerSettings
  | CameraMessage
  | UpdateMessage
  | CameraGoneMessage
  /** The most connections a worker keeps: at it, it stops accepting until it is below again (a fair share). */
  | { readonly type: 'share'; readonly maxConnections: number }
  | { readonly type: 'stats' }
  | { readonly type: 'stop' };

export interface WorkerStats {
  readonly pid: number;
  /** Answers written. */
  readonly answered: number;
  /** Connections handed back to the service. */
  readonly handedOff: number;
  /** Requests left to the service, by why: request (not a plain GET of /hls), camera, no-stream, too-far, media, ahead, slow-head… */
  readonly handedOffBy: Readonly<Record<string, number>>;
  /** Requests held now. */
  readonly held: number;
  /** Open connections. */
  readonly connections: number;
  /** Times it stopped accepting, at its share. */
  readonly paused: number;
  /** It accepts new connections (it has its copy of the listening socket). */
  readonly accepting: boolean;
}

export type FromWorker =
  /** Sent with the connection's socket: the bytes read from it, which the service reads first. */
  | { readonly type: 'hand-off'; readonly head: Buffer }
  | {
      readonly type: 'log';
      readonly level: 'warn' | 'error';
      readonly fields: object;
      readonly message: string;
    }
  | ({ readonly type: 'stats' } & WorkerStats)
  /** Sent every LOAD_INTERVAL_MS: the worker's open connections. */
  | { readonly type: 'load'; readonly connections: number }
  /** Below its share again (it closed its copy of the listening socket at it): the handle, please. */
  | { readonly type: 'listen' };

/** How often a worker reports its connections (the service computes the fair share from them). */
export const LOAD_INTERVAL_MS = 500;

/** The message that carries the listening server's bare handle (workers.ts's sendServer). */
export const SERVER_MESSAGE = 'camstream:server';
