import { useCallback, useMemo, useState } from 'react';
import { endpointsFor } from './api';
import { useSession } from './auth/access';
import { PlayerLink } from './auth/PlayerLink';
import { SessionBar } from './auth/SessionBar';
import { Controls } from './components/Controls';
import { ErrorMessage } from './components/ErrorMessage';
import { isPlainClick } from './components/plain-click';
import { StatusBadge } from './components/StatusBadge';
import { TransportBar } from './components/TransportBar';
import './transport.css';
import { VideoOverlay } from './components/VideoOverlay';
import { Spinner } from './components/Spinner';
import { useCameraRecording } from './hooks/useCameraRecording';
import { useStreamControls } from './hooks/useStreamControls';
import { useStreamInfo } from './hooks/useStreamInfo';
import { useTransport } from './hooks/useTransport';
import { canControl, forbiddenWords, isForbidden } from './logic/auth';
import { transportLabel } from './logic/transport';
import { playerSrcFor, viewModel, type PlayerStatus } from './logic/view';
import { Player } from './player/Player';
import { RecordControl } from './recordings/RecordControl';
import { RecordingIndicator } from './recordings/RecordingIndicator';
import { RecordingPlayer } from './recordings/RecordingPlayer';
import { RecordingsPanel } from './recordings/RecordingsPanel';
import './recordings/recordings.css';
import { describeError } from './logic/errors';
import type { StatsCollector } from './stats/collector';
import { StatsOverlay } from './stats/StatsOverlay';

export interface AppProps {
  /** Present with `?stats=1`: playback is measured and the figures shown over the video. */
  stats?: StatsCollector;
  /**
   * One camera of several (`?camera=<id>`), through its /api/cameras/<id> routes. Absent: the
   * default camera through the first contract's routes, the page as it was before there were many.
   */
  cameraId?: string;
  /** The link back to all cameras: its address, and what a plain click does instead. */
  back?: { href: string; go: () => void };
}

export function App({ stats, cameraId, back }: AppProps) {
  const endpoints = useMemo(() => endpointsFor(cameraId), [cameraId]);
  const { info, connection, refresh } = useStreamInfo(endpoints);
  const onStartAnswered = useCallback(() => stats?.startAnswered(), [stats]);
  const controls = useStreamControls(refresh, onStartAnswered, endpoints);
  const { access } = useSession();
  const mayControl = canControl(access);
  const recording = useCameraRecording({
    info,
    startPath: endpoints.start,
    mayControl,
    busy: controls.pending.start || controls.pending.stop,
    afterRequest: refresh,
  });
  const { playing } = recording;
  // A 403 in words: which of the token's limits it met.
  const requestError =
    controls.error && isForbidden(controls.error.failure)
      ? {
          ...controls.error,
          failure: { ...controls.error.failure, message: forbiddenWords(access, 'control', cameraId) },
        }
      : controls.error;
  const [dismissedError, setDismissedError] = useState<string | null>(null);
  // The player's progress belongs to one URL: a report about another one (or none yet) means "loading".
  const [playerReport, setPlayerReport] = useState<{ src: string; status: PlayerStatus } | null>(null);
  const onPlayerStatus = useCallback(
    (src: string, status: PlayerStatus) => setPlayerReport({ src, status }),
    [],
  );

  const streamSrc = playerSrcFor(info);
  // WebRTC by default, LL-HLS when it cannot play or when chosen (hooks/useTransport.ts).
  const transport = useTransport(streamSrc !== null);
  // A recording on the page takes the live player's place (and its WebRTC session) until Back to live.
  const hlsSrc = playing ? null : streamSrc;
  const liveSrc = hlsSrc === null ? null : transport.transport === 'webrtc' ? endpoints.whep : hlsSrc;
  const player = playerReport !== null && playerReport.src === liveSrc ? playerReport.status : 'loading';
  const view = viewModel({
    info,
    connection,
    pending: controls.pending,
    requestError,
    dismissedError,
    player,
  });
  const onStart = () => {
    stats?.startClicked();
    setDismissedError(null); // a new attempt: its failure, if any, must show
    controls.start(recording.startBody);
  };
  const { errorSource, errorKey } = view;
  // Dismissing hides the service's lastError with the same key too: it is usually the same failure.
  const dismiss =
    errorKey !== null && (errorSource === 'request' || errorSource === 'service')
      ? () => {
          if (errorSource === 'request') controls.dismissError();
          setDismissedError(errorKey);
        }
      : undefined;

  const title = cameraId === undefined ? 'camstream' : `${cameraId} · camstream`;
  return (
    <div className="page" data-view={cameraId === undefined ? 'single' : 'camera'}>
      <title>
        {view.stream.state !== 'live' ? title : info?.recording ? `● REC · ${title}` : `● Live · ${title}`}
      </title>
      <header className="header">
        {back && (
          <a
            className="back-link"
            href={back.href}
            data-testid="all-cameras"
            onClick={(event) => {
              if (!isPlainClick(event)) return;
              event.preventDefault();
              back.go();
            }}
          >
            <span aria-hidden="true">←</span> All cameras
          </a>
        )}
        <h1 className="brand">camstream</h1>
        <p className="camera-id">
          Camera <strong data-testid="camera-id">{view.cameraId ?? cameraId ?? '…'}</strong>
        </p>
        {view.connectionNote && (
          <p className="connection-note">
            <Spinner small />
            {view.connectionNote}
          </p>
        )}
        <SessionBar />
      </header>

      <main className="main">
        <section className="statuses" aria-label="Status">
          <StatusBadge title="Camera" badge={view.camera} testId="camera-state" />
          <StatusBadge title="Stream" badge={view.stream} testId="stream-state" />
        </section>

        {playing && (
          <RecordingPlayer key={playing.id} recording={playing} onBack={() => recording.play(null)} />
        )}
        <section className="stage" aria-label="Live video" hidden={playing !== null}>
          <RecordingIndicator info={info} />
          <Player
            src={liveSrc}
            transport={transport.transport}
            forceWebRtc={transport.choice === 'webrtc'}
            onWebRtcFailure={transport.onWebRtcFailure}
            lowLatency={view.lowLatency}
            onStatus={onPlayerStatus}
            stats={stats}
          />
          {view.overlay && <VideoOverlay overlay={view.overlay} onDismissError={dismiss} />}
          {stats && view.playerSrc && <StatsOverlay collector={stats} />}
          {view.stream.state === 'live' && player === 'buffering' && (
            <span className="stage-buffering" role="status">
              <Spinner small /> Buffering…
            </span>
          )}
        </section>

        {!playing && (
          <TransportBar
            label={
              liveSrc === null
                ? null
                : transportLabel(
                    transport.transport,
                    view.lowLatency,
                    transport.failure,
                    player !== 'playing' && player !== 'buffering',
                  )
            }
            choice={transport.choice}
            onChoose={transport.setChoice}
          />
        )}

        {mayControl ? (
          <Controls
            canStart={view.canStart}
            canStop={view.canStop}
            starting={controls.pending.start}
            stopping={controls.pending.stop}
            startLabel={view.startLabel}
            stopLabel={view.stopLabel}
            onStart={onStart}
            onStop={controls.stop}
          >
            <RecordControl
              control={recording.control}
              pending={recording.request.pending}
              onRecordNext={recording.setRecordNext}
              onRecord={recording.request.setRecording}
            />
          </Controls>
        ) : (
          <p className="hint" data-testid="watch-only">
            This token may only watch: starting and stopping the camera needs an operator token.
          </p>
        )}

        {recording.request.error && (
          <p className="error record-error" role="alert" data-testid="record-error">
            {describeError(recording.request.error).message}
          </p>
        )}

        {view.banner && <ErrorMessage error={view.banner} onDismiss={dismiss} />}

        {view.playerSrc && <PlayerLink src={view.playerSrc} infoUrl={endpoints.info} />}

        {recording.enabled && (
          <RecordingsPanel
            recordings={recording.recordings}
            recordingNow={info?.recording === true && info.state === 'live'}
            control={recording.control.kind}
            mayDelete={mayControl}
            playingId={playing?.id ?? null}
            onPlay={recording.play}
            onDeleted={recording.forget}
          />
        )}

        <p className="visually-hidden" aria-live="polite" aria-atomic="true">
          {view.announcement}
        </p>
      </main>
    </div>
  );
}
