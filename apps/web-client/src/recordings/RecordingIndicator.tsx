import type { StreamInfo } from '@camstream/protocol';
import { useNow } from '../hooks/useNow';
import { recordingIndicator } from '../logic/recordings';

/** The red dot over the live video while the camera is recorded, with the time recorded so far. */
export function RecordingIndicator({ info }: { info: StreamInfo | null }) {
  const active = info?.recording === true && info.state === 'live';
  const now = useNow(active ? 1000 : null);
  const indicator = recordingIndicator(info, now);
  if (!indicator) return null;
  return (
    <span className="rec-indicator" data-testid="recording-indicator" title={indicator.label}>
      <span className="rec-dot" aria-hidden="true" />
      <span aria-hidden="true">REC</span>
      {indicator.elapsed && (
        <span className="rec-elapsed" data-testid="recording-elapsed" aria-hidden="true">
          {indicator.elapsed}
        </span>
      )}
      {/* Not the ticking time: a screen reader would read it out every second. */}
      <span className="visually-hidden">Recording</span>
    </span>
  );
}
