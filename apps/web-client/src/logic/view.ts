/**
 * What the page shows, as a pure function of what it knows: the service's StreamInfo, the link to
 * the service, the requests in flight, the last request's failure and the player's progress.
 */
import { STREAM_URL } from '@camstream/protocol';
import type { CameraStatus, StreamInfo, StreamState } from '@camstream/protocol';
import { CLIENT_ERRORS, describeError, type ApiFailure, type ShownError } from './errors';

/** The link to the service: SSE open, SSE down but polling works, or nothing answers. */
export type Connection = 'connecting' | 'open' | 'polling' | 'down';

/** The page's own requests in flight. Stop may be pressed while a start is pending (to cancel it). */
export interface Pending {
  start: boolean;
  stop: boolean;
}

/** How far the player got with the current stream URL. */
export type PlayerStatus = 'loading' | 'playing' | 'buffering' | 'retrying' | 'unsupported';

export type Tone = 'off' | 'ok' | 'busy' | 'live' | 'bad';

export interface Badge {
  /** Machine-readable, for `data-state` (tests and styles). */
  state: string;
  label: string;
  tone: Tone;
  /** Extra words, shown smaller. */
  detail?: string;
}

export type OverlayKind =
  | 'connecting'
  | 'unreachable'
  | 'offline'
  | 'ready'
  | 'starting'
  | 'stopping'
  | 'loading'
  | 'retrying'
  | 'no-video'
  | 'error';

/** The card over the video area whenever there is no picture to show. */
export interface Overlay {
  kind: OverlayKind;
  title: string;
  text?: string;
  spinner: boolean;
  error?: ShownError;
}

/** A start or stop request that failed. */
export interface RequestError {
  action: 'start' | 'stop';
  failure: ApiFailure;
}

/** Where the shown error comes from: the page's request, the service's lastError, or the player. */
export type ErrorSource = 'request' | 'service' | 'player';

export interface ViewInput {
  info: StreamInfo | null;
  connection: Connection;
  pending: Pending;
  /** The last start/stop request's failure, until the next request or a dismissal. */
  requestError: RequestError | null;
  /** `errorKey` of the last error the person dismissed: the service's lastError with that key stays hidden. */
  dismissedError: string | null;
  player: PlayerStatus;
}

export interface ViewModel {
  cameraId: string | null;
  camera: Badge;
  stream: Badge;
  canStart: boolean;
  canStop: boolean;
  startLabel: string;
  stopLabel: string;
  overlay: Overlay | null;
  /** An error shown under the controls: one that does not belong in the overlay (say, Stop failed while live). */
  banner: ShownError | null;
  /** Where the shown error comes from (null: none); request and service errors can be dismissed. */
  errorSource: ErrorSource | null;
  /** `errorKey` of the shown error, for dismissing it. */
  errorKey: string | null;
  connectionNote: string | null;
  /** What the player should play; null tears it down. */
  playerSrc: string | null;
  /** The service packages Low-Latency HLS: play it with the low-latency settings. */
  lowLatency: boolean;
  /** For the aria-live region. */
  announcement: string;
}

export function describeCamera(camera: CameraStatus | null | undefined): Badge {
  if (camera === undefined) return { state: 'unknown', label: 'Checking the camera…', tone: 'off' };
  if (camera === null) {
    return { state: 'unknown', label: 'Camera offline', tone: 'off', detail: 'no word from the camera yet' };
  }
  const detail = camera.source ? `${camera.source} source` : undefined;
  switch (camera.state) {
    case 'offline':
      return { state: 'offline', label: 'Camera offline', tone: 'off' };
    case 'idle':
      return { state: 'idle', label: 'Ready', tone: 'ok', detail };
    case 'starting':
      return { state: 'starting', label: 'Starting…', tone: 'busy', detail };
    case 'streaming':
      return { state: 'streaming', label: 'Streaming', tone: 'live', detail };
    case 'error': {
      const message = camera.message?.trim();
      return { state: 'error', label: message ? `Error: ${message}` : 'Error', tone: 'bad', detail };
    }
  }
}

/** HH:MM:SS of an ISO time, in the page's time zone. */
export function clockTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
}

export function describeStream(state: StreamState | undefined, input?: StreamInfo['input']): Badge {
  if (state === 'live' && input?.state === 'silent') {
    return {
      state: 'live',
      label: 'Live — no video',
      tone: 'busy',
      detail: `since ${clockTime(input.since)}`,
    };
  }
  switch (state) {
    case undefined:
      return { state: 'unknown', label: 'Unknown', tone: 'off' };
    case 'idle':
      return { state: 'idle', label: 'Not streaming', tone: 'off' };
    case 'starting':
      return { state: 'starting', label: 'Starting…', tone: 'busy' };
    case 'live':
      return { state: 'live', label: 'Live', tone: 'live' };
    case 'stopping':
      return { state: 'stopping', label: 'Stopping…', tone: 'busy' };
  }
}

/** Identifies one failure, so dismissing it does not hide a later one. */
export const errorKey = (failure: ApiFailure): string => `${failure.code}\n${failure.message}`;

export const isCameraOnline = (camera: CameraStatus | null | undefined): boolean =>
  camera !== null && camera !== undefined && camera.state !== 'offline';

interface CurrentFailure {
  failure: ApiFailure;
  source: ErrorSource;
  title: string;
}

/** The failure worth showing now, if any. */
function currentFailure(input: ViewInput): CurrentFailure | null {
  const { info, requestError, dismissedError, player } = input;
  // A failed start is old news once the stream starts after all (from another page, or over MQTT).
  const startedSince = info?.state === 'starting' || info?.state === 'live';
  if (requestError && !(requestError.action === 'start' && startedSince)) {
    const title =
      requestError.action === 'start' ? 'Could not start the stream' : 'Could not stop the stream';
    return { failure: requestError.failure, source: 'request', title };
  }
  if (info?.state === 'live' && player === 'unsupported') {
    const failure = { code: CLIENT_ERRORS.unsupported, message: '' };
    return { failure, source: 'player', title: 'Cannot play the video' };
  }
  // The service keeps its last failure until the next successful start: worth telling when idle,
  // e.g. when a start someone asked for over MQTT failed.
  const lastError = info?.lastError;
  if (info?.state === 'idle' && lastError && errorKey(lastError) !== dismissedError) {
    return { failure: lastError, source: 'service', title: 'The last start failed' };
  }
  return null;
}

function overlayFor(input: ViewInput, current: CurrentFailure | null): Overlay | null {
  const { info, connection, pending, player } = input;
  const error = current ? describeError(current.failure) : null;
  const errorOverlay = (): Overlay | null =>
    current && error ? { kind: 'error', title: current.title, spinner: false, error } : null;
  if (!info) {
    if (error) return errorOverlay();
    return connection === 'connecting'
      ? { kind: 'connecting', title: 'Connecting to the server…', spinner: true }
      : {
          kind: 'unreachable',
          title: 'Cannot reach the server',
          text: 'Check that the web service is running. This page keeps trying.',
          spinner: true,
        };
  }
  if (pending.stop || info.state === 'stopping') {
    return { kind: 'stopping', title: 'Stopping…', spinner: true };
  }
  if (info.state === 'live' && info.input?.state === 'silent' && player !== 'unsupported') {
    // The service gets no video from the camera: say so over the last picture rather than freeze.
    return {
      kind: 'no-video',
      title: 'No video from the camera — waiting for it',
      text: `Nothing has arrived since ${clockTime(info.input.since)}. The picture comes back by itself when the camera’s video does.`,
      spinner: true,
    };
  }
  if (info.state === 'live') {
    switch (player) {
      case 'playing':
      case 'buffering':
        return null;
      case 'unsupported':
        return errorOverlay();
      case 'retrying':
        return { kind: 'retrying', title: 'Lost the video — reconnecting…', spinner: true };
      case 'loading':
        return { kind: 'loading', title: 'Live — loading the video…', spinner: true };
    }
  }
  if (pending.start || info.state === 'starting') {
    return {
      kind: 'starting',
      title: 'Starting… waiting for the first segment',
      text: 'The camera is starting and the server is waiting for the first video segment.',
      spinner: true,
    };
  }
  if (error) return errorOverlay();
  if (!isCameraOnline(info.camera)) {
    return {
      kind: 'offline',
      title: 'Camera offline — check the agent is running',
      text:
        info.camera === null
          ? 'The server has not heard from the camera yet. Start the camera agent and check it reaches the MQTT broker.'
          : 'The camera agent is not connected to the MQTT broker. Start it, or check its network.',
      spinner: false,
    };
  }
  return { kind: 'ready', title: 'Press Start to go live', spinner: false };
}

function connectionNote(connection: Connection): string | null {
  switch (connection) {
    case 'connecting': // the overlay says so
    case 'open':
      return null;
    case 'polling':
      return 'Reconnecting to the server… (checking every 2 s meanwhile)';
    case 'down':
      return 'Reconnecting to the server… it is not answering.';
  }
}

/** What the player should play: the stream's URL while live, nothing otherwise. */
export const playerSrcFor = (info: StreamInfo | null): string | null =>
  info?.state === 'live' ? (info.streamUrl ?? STREAM_URL) : null;

export function viewModel(input: ViewInput): ViewModel {
  const { info, pending } = input;
  const camera = describeCamera(info ? info.camera : undefined);
  const stream = describeStream(info?.state, info?.input);
  const current = currentFailure(input);
  const overlay = overlayFor(input, current);
  const busy = pending.start || pending.stop;
  return {
    cameraId: info?.cameraId ?? null,
    camera,
    stream,
    canStart: info !== null && !busy && info.state === 'idle' && isCameraOnline(info.camera),
    canStop:
      info !== null && !pending.stop && (pending.start || info.state === 'starting' || info.state === 'live'),
    startLabel: pending.start ? 'Starting…' : 'Start',
    stopLabel: pending.stop ? 'Stopping…' : 'Stop',
    overlay,
    banner: current && !overlay?.error ? describeError(current.failure) : null,
    errorSource: current?.source ?? null,
    errorKey: current ? errorKey(current.failure) : null,
    connectionNote: connectionNote(input.connection),
    playerSrc: playerSrcFor(info),
    lowLatency: info?.hlsMode === 'll',
    announcement: `Camera: ${camera.label}. Stream: ${stream.label}.`,
  };
}
