/**
 * A camera's tile in the grid: one state word and colour out of the service's stream state and the
 * camera's status, what the picture area says when there is no picture, and which live tiles play.
 */
import type { StreamInfo } from '@camstream/protocol';
import { describeError } from './errors';
import type { Tone } from './view';

export type TileState = 'offline' | 'idle' | 'starting' | 'live' | 'stopping' | 'error';

export interface TileView {
  cameraId: string;
  /** For `data-state` (tests and styles). */
  state: TileState;
  label: string;
  tone: Tone;
  /** What the picture area says while it shows no picture. */
  placeholder: string;
  /** The last failure (the service's lastError or the camera's error), in plain words. */
  error: string | null;
  /** The camera's playlist while live. */
  src: string | null;
}

/** Live tiles playing at once, at most: each is an hls.js player and a decoder. */
export const MAX_LIVE_TILES = 4;

function stateOf(info: StreamInfo): Pick<TileView, 'state' | 'label' | 'tone' | 'placeholder'> {
  switch (info.state) {
    case 'live':
      return info.input?.state === 'silent'
        ? { state: 'live', label: 'Live — no video', tone: 'busy', placeholder: 'No video from the camera' }
        : { state: 'live', label: 'Live', tone: 'live', placeholder: 'Live — open to watch' };
    case 'starting':
      return { state: 'starting', label: 'Starting…', tone: 'busy', placeholder: 'Starting…' };
    case 'stopping':
      return { state: 'stopping', label: 'Stopping…', tone: 'busy', placeholder: 'Stopping…' };
    case 'idle':
      break;
  }
  const camera = info.camera;
  if (camera === null) {
    return { state: 'offline', label: 'Offline', tone: 'off', placeholder: 'No word from the camera yet' };
  }
  switch (camera.state) {
    case 'offline':
      return { state: 'offline', label: 'Offline', tone: 'off', placeholder: 'Camera offline' };
    case 'error':
      return { state: 'error', label: 'Error', tone: 'bad', placeholder: 'The camera reports an error' };
    case 'starting':
      return { state: 'starting', label: 'Starting…', tone: 'busy', placeholder: 'The camera is starting…' };
    case 'idle':
    case 'streaming':
      return { state: 'idle', label: 'Ready', tone: 'ok', placeholder: 'Not streaming — open to start' };
  }
}

export function tileView(info: StreamInfo): TileView {
  const cameraError = info.camera?.state === 'error' ? info.camera.message?.trim() || null : null;
  return {
    cameraId: info.cameraId,
    ...stateOf(info),
    error: info.lastError ? describeError(info.lastError).message : cameraError,
    src: info.state === 'live' ? (info.streamUrl ?? null) : null,
  };
}

/**
 * The live tiles that play a video: live, on screen (`visible`), the first `max` in the grid's order.
 * The others show their placeholder.
 */
export function liveTiles(
  cameras: readonly StreamInfo[],
  visible: ReadonlySet<string>,
  max = MAX_LIVE_TILES,
): Set<string> {
  const ids = cameras
    .filter((camera) => camera.state === 'live' && camera.streamUrl && visible.has(camera.cameraId))
    .map((camera) => camera.cameraId);
  return new Set(ids.slice(0, Math.max(0, max)));
}
