/**
 * A WHEP viewer (draft-ietf-wish-whep) on a <video>: a recvonly H.264 RTCPeerConnection, its offer
 * POSTed once ICE gathering is complete (the service does no trickle ICE), the answer set, and the
 * session DELETEd when it ends, also when the page goes away (keepalive fetch on pagehide).
 */
import {
  afterFailure,
  errorCodeOf,
  FIRST_FRAME_TIMEOUT_MS,
  ICE_GATHER_TIMEOUT_MS,
  iceHasNoPath,
  preferH264,
  webrtcRetryDelayMs,
  type WebRtcFailure,
} from '../logic/transport';
import { authHeaders, reportUnauthorized } from '../auth/session';

/** What one attempt reports back to the player. */
export interface WhepCallbacks {
  /** The peer connection, while it exists (the stats overlay reads getStats from it). */
  onPeer(peer: RTCPeerConnection | null): void;
  /** WebRTC cannot play (this attempt is over and cleaned up). */
  onFailure(failure: WebRtcFailure): void;
}

/** How long the POST may take (the service answers once its side of ICE is gathered). */
const POST_TIMEOUT_MS = 10_000;
/** `disconnected` this long after the picture appeared: the session is over, try another. */
const DISCONNECTED_GRACE_MS = 3_000;
/** How often ICE's checks are read from the stats until it connects. */
const PATH_POLL_MS = 250;

export const webrtcSupported = (): boolean => typeof RTCPeerConnection === 'function';

/** ICE's connectivity checks so far, summed over the candidate pairs (none yet: zeros). */
async function iceChecks(peer: RTCPeerConnection, answeredAt: number) {
  const checks = { sinceAnswerMs: performance.now() - answeredAt, requestsSent: 0, responsesReceived: 0 };
  const stats = await peer.getStats().catch(() => undefined);
  stats?.forEach((report: { type: string; requestsSent?: number; responsesReceived?: number }) => {
    if (report.type !== 'candidate-pair') return;
    checks.requestsSent += report.requestsSent ?? 0;
    checks.responsesReceived += report.responsesReceived ?? 0;
  });
  return checks;
}

function gatheringComplete(peer: RTCPeerConnection): Promise<void> {
  return new Promise((resolve) => {
    if (peer.iceGatheringState === 'complete') return resolve();
    const timer = setTimeout(done, ICE_GATHER_TIMEOUT_MS);
    function done() {
      clearTimeout(timer);
      peer.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    }
    function onChange() {
      if (peer.iceGatheringState === 'complete') done();
    }
    peer.addEventListener('icegatheringstatechange', onChange);
  });
}

/** DELETE the session; `keepalive` lets it outlive the page. Failures are the service's to reap. */
function endSession(location: string): void {
  void fetch(location, { method: 'DELETE', keepalive: true, headers: authHeaders() }).catch(() => undefined);
}

/**
 * Plays `url`'s camera on `video` once. Resolves nothing: progress comes through the video's own
 * events (`playing`), failure through `onFailure`. Returns the close function (idempotent).
 */
export function playWhep(video: HTMLVideoElement, url: string, callbacks: WhepCallbacks): () => void {
  let closed = false;
  let location: string | null = null;
  const peer = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const abort = new AbortController();
  let frameTimer: ReturnType<typeof setTimeout> | undefined;
  let pathTimer: ReturnType<typeof setInterval> | undefined;
  let disconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let shown = false;

  const close = () => {
    if (closed) return;
    closed = true;
    abort.abort();
    clearTimeout(frameTimer);
    clearInterval(pathTimer);
    clearTimeout(disconnectTimer);
    window.removeEventListener('pagehide', onPageHide);
    video.removeEventListener('playing', onPlaying);
    if (location !== null) endSession(location);
    location = null;
    peer.close();
    callbacks.onPeer(null);
    if (video.srcObject) video.srcObject = null;
  };
  const fail = (failure: WebRtcFailure) => {
    if (closed) return;
    close();
    callbacks.onFailure(failure);
  };
  const onPageHide = () => {
    if (location !== null) endSession(location);
    location = null;
  };
  const onPlaying = () => {
    shown = true;
    clearTimeout(frameTimer);
  };

  window.addEventListener('pagehide', onPageHide);
  video.addEventListener('playing', onPlaying);
  callbacks.onPeer(peer);
  peer.addEventListener('track', (event) => {
    video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
    video.play().catch(() => undefined); // muted: allowed
  });
  peer.addEventListener('connectionstatechange', () => {
    const state = peer.connectionState;
    clearTimeout(disconnectTimer);
    if (state === 'failed') fail({ kind: 'connection' });
    else if (state === 'disconnected' && shown) {
      disconnectTimer = setTimeout(() => fail({ kind: 'connection' }), DISCONNECTED_GRACE_MS);
    }
  });

  const transceiver = peer.addTransceiver('video', { direction: 'recvonly' });
  const capabilities = RTCRtpReceiver.getCapabilities?.('video');
  if (capabilities && 'setCodecPreferences' in transceiver) {
    try {
      transceiver.setCodecPreferences(preferH264(capabilities.codecs));
    } catch {
      // an old browser's quirk: its own order then, the service picks H.264 from it anyway
    }
  }

  const negotiate = async () => {
    await peer.setLocalDescription(await peer.createOffer());
    await gatheringComplete(peer);
    if (closed) return;
    let response: Response;
    const postTimer = setTimeout(() => abort.abort(), POST_TIMEOUT_MS);
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', ...authHeaders() },
        body: peer.localDescription!.sdp,
        signal: abort.signal,
      });
    } catch (error) {
      if (!closed) fail({ kind: 'network', message: error instanceof Error ? error.message : String(error) });
      return;
    } finally {
      clearTimeout(postTimer);
    }
    const body = await response.text().catch(() => '');
    if (response.status === 401) reportUnauthorized();
    if (response.status !== 201) {
      fail({ kind: 'refused', status: response.status, code: errorCodeOf(body) });
      return;
    }
    const where = response.headers.get('location');
    if (where !== null) location = new URL(where, new URL(url, window.location.href)).href;
    if (closed) {
      // Closed while the POST was on its way: the session it made must not linger.
      if (location !== null) endSession(location);
      return;
    }
    await peer.setRemoteDescription({ type: 'answer', sdp: body });
    frameTimer = setTimeout(() => {
      if (!shown) fail({ kind: 'no-frames' });
    }, FIRST_FRAME_TIMEOUT_MS);
    // Until ICE connects: checks that all go unanswered mean no path (UDP blocked), long before
    // the first-frame timeout or the browser's own ICE timeout would say so.
    const answeredAt = performance.now();
    const connected = () => ['connected', 'completed'].includes(peer.iceConnectionState);
    pathTimer = setInterval(() => {
      if (closed || connected()) return clearInterval(pathTimer);
      void iceChecks(peer, answeredAt).then((checks) => {
        if (!connected() && iceHasNoPath(checks)) fail({ kind: 'connection' });
      });
    }, PATH_POLL_MS);
  };
  negotiate().catch((error: unknown) => {
    if (closed) return;
    console.warn('camstream: WebRTC negotiation failed', error);
    fail({ kind: 'refused', status: 0, code: error instanceof Error ? error.name : undefined });
  });
  return close;
}

/**
 * WebRTC for as long as it is wanted. After a failure, `afterFailure` decides: another attempt after
 * a backoff (forced WebRTC, or once a picture was shown), or the failure goes to the caller (which
 * falls back to HLS in auto).
 */
export function playWebRtc(
  video: HTMLVideoElement,
  url: string,
  forced: boolean,
  callbacks: WhepCallbacks & { onRetrying(): void },
): () => void {
  let closed = false;
  let attempt = 0;
  let playedOnce = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closeAttempt: () => void = () => undefined;
  const onPlaying = () => {
    attempt = 0;
    playedOnce = true;
  };
  video.addEventListener('playing', onPlaying);
  const start = () => {
    if (closed) return;
    closeAttempt = playWhep(video, url, {
      onPeer: callbacks.onPeer,
      onFailure: (failure) => {
        if (closed) return;
        if (afterFailure(failure, forced, playedOnce) === 'give-up') {
          callbacks.onFailure(failure);
          return;
        }
        if (forced && !playedOnce) callbacks.onFailure(failure); // the label says why
        callbacks.onRetrying();
        timer = setTimeout(start, webrtcRetryDelayMs(attempt++));
      },
    });
  };
  start();
  return () => {
    closed = true;
    clearTimeout(timer);
    video.removeEventListener('playing', onPlaying);
    closeAttempt();
  };
}
