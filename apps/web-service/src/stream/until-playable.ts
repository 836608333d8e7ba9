/**
 * The wait at the heart of a start: until the run's first media is listed by the playable output,
 * or until something says it will not be (the camera's `ok: false` reply, the remuxer's exit,
 * START_TIMEOUT_MS, an abort).
 */
import type { ServiceConfig } from '../config.js';
import { createError } from '../errors.js';
import type { CameraLink } from '../mqtt/camera-link.js';
import type { RemuxerExit } from '../ingest/remuxer.js';
import type { PlayableOutput } from '../outputs/output.js';

/** What the manager needs of a remuxer (FfmpegRemuxer; a fake in unit tests). */
export interface RemuxerLike {
  readonly streamId: string;
  start(): Promise<void>;
  close(): Promise<RemuxerExit>;
  exited(): Promise<RemuxerExit>;
  /** The camera's stream, from the ingest (ffmpeg's stdin). */
  write(chunk: Buffer): void;
  on(event: 'died', listener: (exit: RemuxerExit) => void): unknown;
  /** Media was written (a frame). */
  on(event: 'media', listener: () => void): unknown;
}
export type CameraLinkLike = Pick<
  CameraLink,
  'status' | 'connected' | 'brokerUrl' | 'publishCommand' | 'waitForReply' | 'on' | 'off'
>;

export interface PlayableWait {
  readonly output: PlayableOutput;
  readonly link: Pick<CameraLinkLike, 'status' | 'waitForReply'>;
  readonly config: Pick<ServiceConfig, 'startTimeoutMs' | 'udpListen' | 'cameraId'>;
  readonly remuxer: RemuxerLike;
  /** Aborts the wait with its reason (stop, shutdown, camera gone). */
  readonly signal: AbortSignal;
  /** The start command whose reply may say no. */
  readonly commandId?: string | undefined;
}

export async function untilPlayable({ output, link, config, remuxer, signal, commandId }: PlayableWait) {
  const local = new AbortController();
  const onAbort = () => local.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const { startTimeoutMs, udpListen, cameraId } = config;
  const timer = setTimeout(() => {
    const camera = link.status?.state ?? 'unknown';
    local.abort(createError('WEB_ERR_MANIFEST_TIMEOUT', startTimeoutMs, udpListen, `camera ${camera}`));
  }, startTimeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      local.signal.addEventListener('abort', () => reject(local.signal.reason), { once: true });
      output.waitUntilPlayable(remuxer.streamId, local.signal).then(resolve, reject);
      void remuxer.exited().then((exit) => reject(createError('WEB_ERR_SEGMENTER_FAILED', exit.reason)));
      if (commandId === undefined) return;
      link.waitForReply(commandId, local.signal).then((reply) => {
        const reason = reply.message ?? 'no reason given';
        if (!reply.ok) reject(createError('WEB_ERR_CAMERA_REJECTED', cameraId, 'start', reason));
      }, reject);
    });
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    local.abort();
  }
}
