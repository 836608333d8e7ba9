import type { StreamInfo } from '@camstream/protocol';
import { useSession } from '../auth/access';
import { SessionBar } from '../auth/SessionBar';
import { Spinner } from '../components/Spinner';
import { canControl, missingCameraWords } from '../logic/auth';
import { liveTiles } from '../logic/tile';
import type { Connection } from '../logic/view';
import { CameraTile } from './CameraTile';
import { useVisible } from './useVisible';

export interface CameraGridProps {
  cameras: readonly StreamInfo[];
  /** The deep link named a camera that is not served here. */
  unknownId: string | null;
  connection: Connection;
  hrefFor: (cameraId: string) => string;
  onOpen: (cameraId: string) => void;
}

/** All cameras at a glance: a tile each, live ones playing while on screen (a few at most). */
export function CameraGrid({ cameras, unknownId, connection, hrefFor, onOpen }: CameraGridProps) {
  const { visible, observe } = useVisible();
  const { access } = useSession();
  const playing = liveTiles(cameras, visible);
  const live = cameras.filter((camera) => camera.state === 'live').length;
  const note =
    connection === 'polling' || connection === 'down'
      ? 'Reconnecting to the server… the states below may be a few seconds old.'
      : null;

  return (
    <div className="page page-wide" data-view="grid">
      <title>{live > 0 ? `● ${live} live · camstream` : 'camstream'}</title>
      <header className="header">
        <h1 className="brand">camstream</h1>
        <p className="camera-id" data-testid="camera-count">
          {cameras.length === 1 ? '1 camera' : `${cameras.length} cameras`}
          {live > 0 && ` · ${live} live`}
        </p>
        {note && (
          <p className="connection-note">
            <Spinner small />
            {note}
          </p>
        )}
        <SessionBar />
      </header>
      <main className="main">
        {unknownId !== null && (
          <div className="notice" role="alert" data-testid="unknown-camera">
            <p>{missingCameraWords(access, unknownId)} Pick one of these.</p>
          </div>
        )}
        {cameras.length === 0 ? (
          <p className="hint">
            No cameras yet: start a camera agent, or add cameras to the service’s CAMERAS.
          </p>
        ) : (
          <ul className="camera-grid" aria-label="Cameras">
            {cameras.map((info) => (
              <CameraTile
                key={info.cameraId}
                info={info}
                playing={playing.has(info.cameraId)}
                href={hrefFor(info.cameraId)}
                onOpen={onOpen}
                tileRef={observe(info.cameraId)}
              />
            ))}
          </ul>
        )}
        <p className="hint">
          {canControl(access) ? 'Open a camera to start or stop it' : 'Open a camera to watch it large'}; its
          address links straight to it.
        </p>
      </main>
    </div>
  );
}
