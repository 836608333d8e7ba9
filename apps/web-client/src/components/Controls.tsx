import type { ReactNode } from 'react';
import { Spinner } from './Spinner';

export interface ControlsProps {
  canStart: boolean;
  canStop: boolean;
  starting: boolean;
  stopping: boolean;
  startLabel: string;
  stopLabel: string;
  onStart: () => void;
  onStop: () => void;
  /** More controls after Stop (Record). */
  children?: ReactNode;
}

/** Start and Stop. Disabled while they would do nothing; busy (with a spinner) while their request runs. */
export function Controls(props: ControlsProps) {
  const { canStart, canStop, starting, stopping, startLabel, stopLabel, onStart, onStop } = props;
  return (
    <div className="controls">
      <button
        type="button"
        className="button button-start"
        data-testid="start"
        disabled={!canStart}
        aria-busy={starting}
        aria-label={starting ? 'Starting the stream' : 'Start the stream'}
        onClick={onStart}
      >
        {starting ? <Spinner small /> : <span className="icon icon-play" aria-hidden="true" />}
        {startLabel}
      </button>
      <button
        type="button"
        className="button button-stop"
        data-testid="stop"
        disabled={!canStop}
        aria-busy={stopping}
        aria-label={stopping ? 'Stopping the stream' : 'Stop the stream'}
        onClick={onStop}
      >
        {stopping ? <Spinner small /> : <span className="icon icon-stop" aria-hidden="true" />}
        {stopLabel}
      </button>
      {props.children}
    </div>
  );
}
