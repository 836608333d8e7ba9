import type { Overlay } from '../logic/view';
import { ErrorMessage } from './ErrorMessage';
import { Spinner } from './Spinner';

export interface VideoOverlayProps {
  overlay: Overlay;
  onDismissError?: () => void;
}

/** The card over the video area whenever there is no picture: never a blank black box. */
export function VideoOverlay({ overlay, onDismissError }: VideoOverlayProps) {
  return (
    <div className={`overlay overlay-${overlay.kind}`} data-overlay={overlay.kind}>
      <div className="overlay-card">
        <p className="overlay-title">
          {overlay.spinner && <Spinner />}
          <span>{overlay.title}</span>
        </p>
        {overlay.text && <p className="overlay-text">{overlay.text}</p>}
        {overlay.error && <ErrorMessage error={overlay.error} onDismiss={onDismissError} />}
      </div>
    </div>
  );
}
