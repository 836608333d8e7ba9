import { useCallback, useState } from 'react';
import type { StreamInfo } from '@camstream/protocol';
import { isPlainClick } from '../components/plain-click';
import { Spinner } from '../components/Spinner';
import { recordingIndicator } from '../logic/recordings';
import { tileView } from '../logic/tile';
import type { PlayerStatus } from '../logic/view';
import { Player } from '../player/Player';
import '../recordings/recordings.css';

export interface CameraTileProps {
  info: StreamInfo;
  /** May play its live video (on screen, and within the grid's cap on live tiles). */
  playing: boolean;
  /** The deep link to the camera large. */
  href: string;
  onOpen: (cameraId: string) => void;
  /** Registers the tile with the grid's visibility observer. */
  tileRef: (element: HTMLElement | null) => void;
}

/** Words over the picture area while a live tile has no picture yet. */
const PLAYER_WORDS: Partial<Record<PlayerStatus, string>> = {
  loading: 'Loading the picture…',
  retrying: 'Lost the picture — reconnecting…',
  unsupported: 'This browser cannot play the video',
};

/** One camera in the grid: its picture (live, muted) or words saying its state, its name and state. */
export function CameraTile({ info, playing, href, onOpen, tileRef }: CameraTileProps) {
  const view = tileView(info);
  const src = playing ? view.src : null;
  const [report, setReport] = useState<{ src: string; status: PlayerStatus } | null>(null);
  const onStatus = useCallback((from: string, status: PlayerStatus) => setReport({ src: from, status }), []);
  const player = src !== null && report?.src === src ? report.status : 'loading';
  const showsPicture = src !== null && (player === 'playing' || player === 'buffering');
  const words = src !== null ? (PLAYER_WORDS[player] ?? view.placeholder) : view.placeholder;
  const busy = src !== null ? player === 'loading' || player === 'retrying' : view.tone === 'busy';

  return (
    <li className="tile-item" ref={tileRef} data-camera-id={view.cameraId}>
      <a
        className={`tile tile-${view.state}`}
        href={href}
        data-testid="tile"
        data-camera-id={view.cameraId}
        data-state={view.state}
        onClick={(event) => {
          if (!isPlainClick(event)) return;
          event.preventDefault();
          onOpen(view.cameraId);
        }}
      >
        <div className="tile-picture">
          {src !== null && (
            <Player
              src={src}
              preview
              onStatus={onStatus}
              testId="tile-video"
              label={`Live video of ${view.cameraId}`}
            />
          )}
          {/* The time is the large view's: a grid of tiles ticks no clocks. */}
          {recordingIndicator(info, 0) && (
            <span className="rec-indicator rec-indicator-tile" data-testid="tile-recording" title="Recording">
              <span className="rec-dot" aria-hidden="true" />
              REC
            </span>
          )}
          {!showsPicture && (
            <div className={`tile-placeholder tile-placeholder-${view.state}`} data-testid="tile-placeholder">
              {busy && <Spinner small />}
              <span>{words}</span>
            </div>
          )}
        </div>
        <div className="tile-body">
          <span className="tile-name">{view.cameraId}</span>
          <span className={`badge badge-${view.tone}`} data-testid="tile-state" data-state={view.state}>
            <span className="badge-dot" aria-hidden="true" />
            <span className="badge-label">{view.label}</span>
          </span>
        </div>
        {view.error && (
          <p className="tile-error" data-testid="tile-error">
            {view.error}
          </p>
        )}
      </a>
    </li>
  );
}
