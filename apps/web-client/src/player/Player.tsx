/**
 * The <video> element and what feeds it: WebRTC (WHEP, player/whep.ts) when asked, else hls.js
 * where Media Source Extensions exist, the browser's own HLS otherwise (Safari on iOS). A null
 * `src` tears everything down.
 */
import { useEffect, useRef } from 'react';
import Hls, { type ErrorData } from 'hls.js';
import type { Transport, WebRtcFailure } from '../logic/transport';
import type { PlayerStatus } from '../logic/view';
import type { StatsCollector } from '../stats/collector';
import { hlsConfigFor, MEDIA_RECOVERY_WINDOW_MS, PREVIEW_HLS_CONFIG, rebuildDelayMs } from './hls-config';
import { bufferedAhead, holdLiveEdge, START_BUFFER_S, START_WAIT_MS } from './live-edge';
import { playWebRtc, webrtcSupported } from './whep';
import { currentToken, reportUnauthorized } from '../auth/session';

declare global {
  interface Window {
    /** The current hls.js instance, for tests. */
    __camstreamHls?: Hls | null;
  }
}

type Report = (status: PlayerStatus) => void;
type OnHls = (hls: Hls | null) => void;
type Close = () => void;

/**
 * hls.js, rebuilt with backoff after fatal errors for as long as the stream is live (until close).
 * `preview`: a grid tile's player: whole segments, a few seconds behind, not in window.__camstreamHls.
 */
function playWithHlsJs(
  video: HTMLVideoElement,
  src: string,
  lowLatency: boolean,
  preview: boolean,
  report: Report,
  onHls: OnHls,
): Close {
  let hls: Hls | null = null;
  let closed = false;
  let attempt = 0;
  let lastMediaRecovery = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const teardown = () => {
    if (!hls) return;
    hls.destroy();
    if (!preview && window.__camstreamHls === hls) window.__camstreamHls = null;
    onHls(null);
    hls = null;
  };

  const rebuildLater = () => {
    teardown();
    report('retrying');
    timer = setTimeout(build, rebuildDelayMs(attempt++));
  };

  const onError = (instance: Hls, data: ErrorData) => {
    if (!data.fatal || instance !== hls) return; // non-fatal ones hls.js retries by itself
    if (data.response?.code === 401) reportUnauthorized();
    const now = performance.now();
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && now - lastMediaRecovery > MEDIA_RECOVERY_WINDOW_MS) {
      lastMediaRecovery = now;
      instance.recoverMediaError();
      return;
    }
    console.warn(`camstream: video ${data.type}/${data.details}; rebuilding the player`);
    rebuildLater();
  };

  function build() {
    if (closed) return;
    const config = preview ? PREVIEW_HLS_CONFIG : hlsConfigFor(lowLatency);
    // The signed streamUrl lets any player in; the header goes along as well when signed in.
    const token = currentToken();
    const instance = new Hls(
      token === null
        ? config
        : {
            ...config,
            xhrSetup: (xhr, url) => {
              xhr.open('GET', url, true);
              xhr.setRequestHeader('authorization', `Bearer ${token}`);
            },
          },
    );
    hls = instance;
    if (!preview) window.__camstreamHls = instance;
    onHls(instance);
    instance.on(Hls.Events.ERROR, (_event, data) => onError(instance, data));
    instance.on(Hls.Events.FRAG_BUFFERED, () => {
      attempt = 0;
    });
    const play = () => void video.play().catch(() => undefined); // `muted` makes a refusal rare
    if (lowLatency) {
      // Start once a few parts are buffered (the first frame shows meanwhile), then hold the edge.
      const builtAt = performance.now();
      let started = false;
      instance.on(Hls.Events.FRAG_BUFFERED, () => {
        if (started) return;
        if (bufferedAhead(video) >= START_BUFFER_S || performance.now() - builtAt > START_WAIT_MS) {
          started = true;
          play();
        }
      });
    } else {
      instance.on(Hls.Events.MANIFEST_PARSED, play);
    }
    instance.loadSource(src);
    instance.attachMedia(video);
  }

  // LL-HLS: a little faster while late, a seek when far behind (live-edge.ts), four times a second.
  const edgeTimer = lowLatency
    ? setInterval(() => {
        if (!hls || video.paused || video.seeking) return;
        const action = holdLiveEdge({
          latency: Number.isFinite(hls.latency) ? hls.latency : null,
          target: hls.targetLatency,
          bufferAhead: bufferedAhead(video),
        });
        if ('seekBy' in action) video.currentTime += action.seekBy;
        else if (video.playbackRate !== action.rate) video.playbackRate = action.rate;
      }, 250)
    : undefined;

  build();
  return () => {
    closed = true;
    clearTimeout(timer);
    clearInterval(edgeTimer);
    teardown();
  };
}

/** The browser's own HLS (Safari, iOS): it retries segments itself; reload the source on a fatal error. */
function playNatively(video: HTMLVideoElement, src: string, report: Report): Close {
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const load = () => {
    video.src = src;
    video.play().catch(() => undefined);
  };
  const onError = () => {
    report('retrying');
    clearTimeout(timer);
    timer = setTimeout(load, rebuildDelayMs(attempt++));
  };
  const onPlaying = () => {
    attempt = 0;
  };
  video.addEventListener('error', onError);
  video.addEventListener('playing', onPlaying);
  load();
  return () => {
    clearTimeout(timer);
    video.removeEventListener('error', onError);
    video.removeEventListener('playing', onPlaying);
    video.removeAttribute('src');
    video.load();
  };
}

export interface PlayerProps {
  /** The playlist (or with `transport="webrtc"`, the WHEP URL) to play, or null for nothing. */
  src: string | null;
  /** How `src` is played (default HLS). */
  transport?: Transport;
  /** WebRTC was chosen (not auto): retry what may pass, also before the first picture. */
  forceWebRtc?: boolean;
  /** WebRTC could not play (each failure); must be stable. */
  onWebRtcFailure?: (src: string, failure: WebRtcFailure) => void;
  /** Progress with `src`; must be stable (the player restarts when it changes). */
  onStatus: (src: string, status: PlayerStatus) => void;
  /** The playlist is Low-Latency HLS (parts): hls.js's low-latency settings. */
  lowLatency?: boolean;
  /** Measures playback (`?stats=1`); must be stable. */
  stats?: StatsCollector;
  /** A grid tile's small picture (PREVIEW_HLS_CONFIG): `lowLatency` is ignored. */
  preview?: boolean;
  testId?: string;
  label?: string;
}

export function Player(props: PlayerProps) {
  const { src, lowLatency = false, onStatus, stats, preview = false } = props;
  const { transport = 'hls', forceWebRtc = false, onWebRtcFailure } = props;
  const videoRef = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    const video = videoRef.current;
    if (!video || !stats) return;
    return stats.attachVideo(video);
  }, [stats]);

  useEffect(() => {
    const video = videoRef.current;
    if (!video || src === null) return;
    let status: PlayerStatus = 'loading';
    const report = (next: PlayerStatus) => {
      if (next === status) return;
      status = next;
      onStatus(src, next);
    };
    const onPlaying = () => report('playing');
    // Only a stall after the picture appeared is "buffering"; before that the overlay says "loading".
    const onWaiting = () => {
      if (status === 'playing') report('buffering');
    };
    video.addEventListener('playing', onPlaying);
    video.addEventListener('waiting', onWaiting);

    let close: Close = () => undefined;
    const onHls: OnHls = (hls) => stats?.attachHls(hls);
    stats?.setTransport(transport);
    if (transport === 'webrtc') {
      if (webrtcSupported()) {
        close = playWebRtc(video, src, forceWebRtc, {
          onPeer: (peer) => stats?.attachPeer(peer),
          onFailure: (failure) => onWebRtcFailure?.(src, failure),
          onRetrying: () => report('retrying'),
        });
      } else onWebRtcFailure?.(src, { kind: 'unsupported' });
    } else if (Hls.isSupported())
      close = playWithHlsJs(video, src, lowLatency && !preview, preview, report, onHls);
    else if (video.canPlayType('application/vnd.apple.mpegurl') !== '')
      close = playNatively(video, src, report);
    else report('unsupported');

    return () => {
      video.removeEventListener('playing', onPlaying);
      video.removeEventListener('waiting', onWaiting);
      close();
    };
  }, [src, transport, forceWebRtc, onWebRtcFailure, lowLatency, preview, onStatus, stats]);

  return (
    <video
      ref={videoRef}
      className="video"
      data-testid={props.testId ?? 'video'}
      aria-label={props.label ?? 'Live camera video'}
      muted
      playsInline
      disableRemotePlayback
    />
  );
}
