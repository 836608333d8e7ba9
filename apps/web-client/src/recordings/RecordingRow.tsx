import { useState, type MouseEvent } from 'react';
import type { Recording } from '@camstream/protocol';
import { formatBytes, formatDuration, formatStart } from '../logic/recordings';

export interface RecordingRowProps {
  recording: Recording;
  now: number;
  /** Being played on the page. */
  playing: boolean;
  onPlay: () => void;
  /** Download: follows the link, or (a signed link about to expire) fetches a fresh one first. */
  onDownload: (event: MouseEvent<HTMLAnchorElement>) => void;
  /** Operators only: absent, no Delete is offered. Resolves with the failure in words, if any. */
  onDelete?: () => Promise<string | null>;
}

/** One recording: when, how long, how big; Play, Download MP4, and Delete (asked twice). */
export function RecordingRow({ recording, now, playing, onPlay, onDownload, onDelete }: RecordingRowProps) {
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const inProgress = recording.recording;
  const remove = async () => {
    if (!onDelete) return;
    setDeleting(true);
    setFailure(await onDelete());
    setDeleting(false);
    setConfirming(false);
  };

  return (
    <li className="recording" data-testid="recording" data-recording-id={recording.id} data-playing={playing}>
      <div className="recording-when">
        <span className="recording-start">{formatStart(recording.start, now)}</span>
        <span className="recording-meta">
          <span data-testid="recording-duration">{formatDuration(recording.duration)}</span>
          {' · '}
          <span data-testid="recording-size">{formatBytes(recording.bytes)}</span>
          {inProgress && <span className="recording-live"> · being recorded</span>}
        </span>
      </div>
      {confirming ? (
        <div className="recording-actions recording-confirm" role="group" aria-label="Delete this recording?">
          <span className="recording-confirm-text">Delete this recording?</span>
          <button
            type="button"
            className="small-button small-button-danger"
            data-testid="recording-delete-confirm"
            disabled={deleting}
            onClick={() => void remove()}
          >
            {deleting ? 'Deleting…' : 'Delete'}
          </button>
          <button
            type="button"
            className="small-button"
            data-testid="recording-delete-cancel"
            disabled={deleting}
            onClick={() => setConfirming(false)}
          >
            Cancel
          </button>
        </div>
      ) : (
        <div className="recording-actions">
          <button
            type="button"
            className="small-button small-button-primary"
            data-testid="recording-play"
            disabled={inProgress || playing}
            onClick={onPlay}
          >
            {playing ? 'Playing' : 'Play'}
          </button>
          {inProgress ? (
            <span className="small-button small-button-disabled" aria-disabled="true">
              MP4 once ended
            </span>
          ) : (
            <a
              className="small-button"
              data-testid="recording-download"
              href={recording.mp4Url}
              download={`${recording.id}.mp4`}
              onClick={onDownload}
            >
              Download MP4
            </a>
          )}
          {onDelete && !inProgress && (
            <button
              type="button"
              className="small-button small-button-danger"
              data-testid="recording-delete"
              onClick={() => {
                setFailure(null);
                setConfirming(true);
              }}
            >
              Delete
            </button>
          )}
        </div>
      )}
      {failure && (
        <p className="recording-failure" role="alert" data-testid="recording-delete-error">
          Could not delete it: {failure}
        </p>
      )}
    </li>
  );
}
