/**
 * How the large view plays a live camera: WebRTC (WHEP, real time) or LL-HLS, and when WebRTC gives
 * way to LL-HLS. Pure: the page passes the query string, the stored choice and what happened.
 */

/** What the person chose with the switch (or `?transport=`). */
export type TransportChoice = 'auto' | 'webrtc' | 'hls';
/** What actually plays. */
export type Transport = 'webrtc' | 'hls';

export const TRANSPORT_CHOICES: readonly TransportChoice[] = ['auto', 'webrtc', 'hls'];
/** localStorage key of the switch's last position. */
export const TRANSPORT_STORAGE_KEY = 'camstream.transport';

/** ICE gathering is waited for this long before the offer goes out with what it has (no trickle). */
export const ICE_GATHER_TIMEOUT_MS = 1_500;
/**
 * No frame this long after the answer: WebRTC cannot play here (UDP blocked, or a stream the
 * browser cannot decode). A new viewer starts from the camera's last keyframe (the service's GOP
 * catch-up): its first frame comes within a few hundred milliseconds, with GOPs of seconds too.
 */
export const FIRST_FRAME_TIMEOUT_MS = 6_000;
/**
 * ICE finds no path when the browser's connectivity checks go unanswered: a service it can reach
 * answers the first within a round trip (Chromium on loopback: connected 0-75 ms after `checking`,
 * one to three checks sent). Once at least NO_PATH_CHECKS went out over at least NO_PATH_MIN_MS
 * after the answer, with not one answered on any candidate pair, WebRTC cannot play here (UDP
 * blocked): the page falls back about a second after the answer, where the first-frame timeout took
 * 6 s (Chromium's own ICE was still `checking` then, some 90 checks later). Counted in checks sent,
 * not in time alone, so a machine too busy to send them is not taken for a blocked one.
 */
export const NO_PATH_MIN_MS = 1_000;
export const NO_PATH_CHECKS = 5;
/** Forced WebRTC: the delays between attempts after a failure. */
export const WEBRTC_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000];

export const isTransportChoice = (value: unknown): value is TransportChoice =>
  (TRANSPORT_CHOICES as readonly unknown[]).includes(value);

/** What the browser's stats say of ICE's connectivity checks, summed over its candidate pairs. */
export interface IceChecks {
  /** Since the answer was set. */
  sinceAnswerMs: number;
  requestsSent: number;
  responsesReceived: number;
}

/** ICE has no path: enough checks, over long enough, and none answered (see NO_PATH_CHECKS). */
export function iceHasNoPath({ sinceAnswerMs, requestsSent, responsesReceived }: IceChecks): boolean {
  return sinceAnswerMs >= NO_PATH_MIN_MS && requestsSent >= NO_PATH_CHECKS && responsesReceived === 0;
}

/** `?transport=webrtc|hls|auto` wins (links, tests), then the stored switch position, then auto. */
export function transportChoice(search: string, stored: string | null): TransportChoice {
  const asked = new URLSearchParams(search).get('transport');
  if (isTransportChoice(asked)) return asked;
  return isTransportChoice(stored) ? stored : 'auto';
}

/** Why WebRTC did not play: the service refused (with its status and code), or the network did. */
export type WebRtcFailure =
  | { kind: 'unsupported' }
  | { kind: 'refused'; status: number; code?: string }
  | { kind: 'network'; message: string }
  | { kind: 'connection' }
  | { kind: 'no-frames' };

export interface TransportInput {
  choice: TransportChoice;
  /** The browser has RTCPeerConnection. */
  webrtcSupported: boolean;
  /** WebRTC failed during this run of the stream (cleared when the stream stops). */
  failure: WebRtcFailure | null;
}

/**
 * Auto: WebRTC unless it failed in this run of the stream (then LL-HLS until the stream restarts
 * or the person picks WebRTC). Forced WebRTC stays on WebRTC (the player retries), except where
 * the browser has none at all. Forced HLS is HLS.
 */
export function chooseTransport({ choice, webrtcSupported, failure }: TransportInput): Transport {
  if (choice === 'hls' || !webrtcSupported) return 'hls';
  if (choice === 'webrtc') return 'webrtc';
  return failure === null ? 'webrtc' : 'hls';
}

/** A WHEP POST's answer that is not 201: worth another try later (forced WebRTC), or not at all. */
export function isRetryable(failure: WebRtcFailure): boolean {
  switch (failure.kind) {
    case 'unsupported':
      return false;
    case 'refused':
      // 409: not streaming (yet or any more); 503: too many viewers or no port; 5xx: passing trouble.
      return failure.status === 409 || failure.status >= 500;
    case 'network':
    case 'connection':
    case 'no-frames':
      return true;
  }
}

/**
 * After a WebRTC failure: another attempt (after a backoff), or give up (auto then plays LL-HLS).
 * Forced WebRTC retries what may pass; so does auto once WebRTC showed a picture in this run of
 * the stream (a lost connection, the service's ingest restarted): it plays here, get it back.
 */
export function afterFailure(
  failure: WebRtcFailure,
  forced: boolean,
  playedOnce: boolean,
): 'retry' | 'give-up' {
  return (forced || playedOnce) && isRetryable(failure) ? 'retry' : 'give-up';
}

/** The delay before attempt `attempt + 1` (0-based) of forced WebRTC. */
export const webrtcRetryDelayMs = (attempt: number): number =>
  WEBRTC_RETRY_DELAYS_MS[Math.min(attempt, WEBRTC_RETRY_DELAYS_MS.length - 1)]!;

/** A few words on why WebRTC did not play, for the label. */
export function describeFailure(failure: WebRtcFailure): string {
  switch (failure.kind) {
    case 'unsupported':
      return 'this browser has no WebRTC';
    case 'refused':
      if (failure.status === 503) return 'the server has too many WebRTC viewers';
      if (failure.status === 404) return 'the server does not offer WebRTC';
      if (failure.status === 409) return 'the camera is not streaming';
      return `the server refused it (${failure.code ?? `HTTP ${failure.status}`})`;
    case 'network':
      return 'the server could not be reached';
    case 'connection':
      return 'the connection failed (UDP blocked?)';
    case 'no-frames':
      return 'no video arrived (UDP blocked?)';
  }
}

export interface TransportLabel {
  /** Machine-readable, for `data-transport`. */
  transport: Transport;
  text: string;
  /** Why this is not WebRTC, when auto fell back. */
  note?: string;
}

/** What the label says: which transport plays, and why it is not WebRTC when auto fell back. */
export function transportLabel(
  transport: Transport,
  lowLatency: boolean,
  failure: WebRtcFailure | null,
  /** No picture yet (or reconnecting). */
  connecting = false,
): TransportLabel {
  if (transport === 'webrtc') {
    if (!connecting) return { transport, text: 'WebRTC · real time' };
    // Forced WebRTC that does not play: say why.
    const text = 'WebRTC · connecting…';
    return failure
      ? { transport, text, note: `Not playing: ${describeFailure(failure)}` }
      : { transport, text };
  }
  const text = lowLatency ? 'LL-HLS' : 'HLS';
  return failure
    ? { transport, text, note: `WebRTC unavailable: ${describeFailure(failure)}` }
    : { transport, text };
}

/** The service's error code in a JSON body, if it has one. */
export function errorCodeOf(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'code' in parsed &&
      typeof parsed.code === 'string'
    ) {
      return parsed.code;
    }
  } catch {
    // not JSON
  }
  return undefined;
}

/**
 * Puts H.264 first in a transceiver's codec list (the service answers H.264 only), keeping the
 * browser's order otherwise; constrained baseline (42e0) first among H.264 entries, since that is
 * what every browser decodes.
 */
export function preferH264<T extends { mimeType: string; sdpFmtpLine?: string }>(codecs: readonly T[]): T[] {
  const rank = (codec: T) => {
    if (codec.mimeType.toLowerCase() !== 'video/h264') return 2;
    return /profile-level-id=42e0/i.test(codec.sdpFmtpLine ?? '') ? 0 : 1;
  };
  return [...codecs].sort((a, b) => rank(a) - rank(b));
}
