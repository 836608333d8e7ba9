/**
 * One recording, played in the page as video on demand: hls.js where Media Source Extensions exist
 * (with the session's token as a header, as the live player does), the browser's own HLS otherwise
 * (the signed playlist URL: Safari on iOS). The video's own controls seek; Back to live returns.
 */
import { useEffect, useRef, useState } from 'react';
import Hls from 'hls.js';
import type { Recording } from '@camstream/protocol';
import { currentToken, reportUnauthorized } from '../auth/session';
import { Spinner } from '../components/Spinner';
import { useNow } from '../hooks/useNow';
import { describeError, failureFromResponse } from '../logic/errors';
import { formatDuration, formatStart } from '../logic/recordings';

type Status = { kind: 'loading' } | { kind: 'playing' } | { kind: 'error'; message: string };

declare global {
  interface Window {
    /** The recording's hls.js instance, for tests. */
    __camstreamRecordingHls?: Hls | null;
  }
}

function playWithHlsJs(video: HTMLVideoElement, src: string, fail: (message: string) => void): () => void {
  const token = currentToken();
  const hls = new Hls({
    // Video on demand: no live-edge settings; a little ahead is enough to seek smoothly.
    maxBufferLength: 20,
    ...(token !== null && {
      xhrSetup: (xhr: XMLHttpRequest, url: string) => {
        xhr.open('GET', url, true);
        xhr.setRequestHeader('authorization', `Bearer ${token}`);
      },
    }),
  });
  window.__camstreamRecordingHls = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, () => void video.play().catch(() => undefined));
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return; // hls.js retries those itself
    const code = data.response?.code;
    if (code === 401) reportUnauthorized();
    const text = typeof data.response?.data === 'string' ? data.response.data : '';
    const message =
      code === 404 // the files are gone: deleted or expired meanwhile
        ? describeError({ code: 'WEB_ERR_UNKNOWN_RECORDING', message: '' }).message
        : code !== undefined && code >= 400
          ? describeError(failureFromResponse(code, text)).message
          : `the video could not be played (${data.details}).`;
    fail(message);
    hls.destroy();
  });
  hls.loadSource(src);
  hls.attachMedia(video);
  return () => {
    hls.destroy();
    if (window.__camstreamRecordingHls === hls) window.__camstreamRecordingHls = null;
  };
}

function playNatively(video: HTMLVideoElement, src: string, fail: (message: string) => void): () => void {
  const onError = () => fail('the browser could not play it.');
  video.addEventListener('error', onError);
  video.src = src;
  void video.play().catch(() => undefined);
  return () => {
    video.removeEventListener('error', onError);
    video.removeAttribute('src');
    video.load();
  };
}

export interface RecordingPlayerProps {
  recording: Recording;
  onBack: () => void;
}

export function RecordingPlayer({ recording, onBack }: RecordingPlayerProps) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const sectionRef = useRef<HTMLElement>(null);
  const [status, setStatus] = useState<Status>({ kind: 'loading' });
  const src = recording.playlistUrl;

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    // One recording per mounted player (App keys it by id): no reset to 'loading' needed here.
    const fail = (message: string) => setStatus({ kind: 'error', message });
    const onPlaying = () => setStatus({ kind: 'playing' });
    video.addEventListener('playing', onPlaying);
    let close = () => undefined as void;
    if (Hls.isSupported()) close = playWithHlsJs(video, src, fail);
    else if (video.canPlayType('application/vnd.apple.mpegurl') !== '')
      close = playNatively(video, src, fail);
    else fail('this browser cannot play HLS video.');
    return () => {
      video.removeEventListener('playing', onPlaying);
      close();
    };
  }, [src]);

  // Play is pressed in the list below: on a phone the player would be out of sight.
  // A block, not an arrow's value: newer browsers' scrollIntoView returns a promise, which React
  // would take for the effect's cleanup.
  useEffect(() => {
    void sectionRef.current?.scrollIntoView({ block: 'nearest' });
  }, []);

  const now = useNow(null);
  const title = `Recording · ${formatStart(recording.start, now)} · ${formatDuration(recording.duration)}`;
  return (
    <section ref={sectionRef} className="playback" aria-label="Recording" data-testid="playback">
      <div className="playback-bar">
        <button type="button" className="button button-back" data-testid="back-to-live" onClick={onBack}>
          <span aria-hidden="true">←</span> Back to live
        </button>
        <p className="playback-title" data-testid="playback-title">
          {title}
        </p>
      </div>
      <div className="stage">
        <video
          ref={videoRef}
          className="video"
          data-testid="recording-video"
          aria-label={title}
          controls
          muted
          playsInline
          disableRemotePlayback
        />
        {status.kind === 'loading' && (
          <span className="stage-buffering" role="status">
            <Spinner small /> Loading the recording…
          </span>
        )}
        {status.kind === 'error' && (
          <div className="overlay" data-overlay="recording-error">
            <div className="overlay-card">
              <p className="overlay-title">Cannot play this recording</p>
              <p className="overlay-text" data-testid="recording-error">
                {status.message}
              </p>
            </div>
          </div>
        )}
      </div>
    </section>
  );
}
