import type { RecordControl as Control } from '../logic/recordings';
import { Spinner } from '../components/Spinner';

export interface RecordControlProps {
  control: Control;
  /** A Record / Stop recording request is in flight. */
  pending: boolean;
  /** The next Start's choice (kind `next-start`). */
  onRecordNext: (on: boolean) => void;
  /** Starts or ends the recording of the running stream (kind `live`). */
  onRecord: (on: boolean) => void;
}

/**
 * Record, for operators. Not streaming: a checkbox that goes with the next Start. Streaming: a button
 * that starts (from the next keyframe) or ends the recording, the stream going on. RECORD=always:
 * words only. Nothing at all for viewers or when the service does not record.
 */
export function RecordControl({ control, pending, onRecordNext, onRecord }: RecordControlProps) {
  switch (control.kind) {
    case 'none':
      return null;
    case 'always':
      return (
        <p className="hint record-hint" data-testid="record-always">
          Every stream of this camera is recorded (RECORD=always).
        </p>
      );
    case 'next-start':
      return (
        <label className="record-next" data-testid="record-next-label">
          <input
            type="checkbox"
            data-testid="record-next"
            checked={control.checked}
            disabled={control.disabled}
            onChange={(event) => onRecordNext(event.target.checked)}
          />
          <span className="record-next-dot" aria-hidden="true" />
          <span>
            Record
            <span className="record-next-hint"> · applies when you press Start</span>
          </span>
        </label>
      );
    case 'live': {
      const { recording } = control;
      return (
        <button
          type="button"
          className={`button button-record${recording ? ' button-record-on' : ''}`}
          data-testid="record"
          data-recording={recording}
          disabled={control.disabled || pending}
          aria-busy={pending}
          aria-pressed={recording}
          onClick={() => onRecord(!recording)}
        >
          {pending ? (
            <Spinner small />
          ) : (
            <span className={recording ? 'icon icon-stop' : 'icon icon-rec'} aria-hidden="true" />
          )}
          {recording ? 'Stop recording' : 'Record'}
        </button>
      );
    }
  }
}
