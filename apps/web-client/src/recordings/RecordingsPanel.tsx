/**
 * A camera's recordings under its player: newest first, each with Play (in the page), Download MP4
 * and, for operators, Delete. Loading, none yet and failures are said in words, never a blank.
 */
import type { MouseEvent } from 'react';
import type { Recording } from '@camstream/protocol';
import { useNow } from '../hooks/useNow';
import type { Recordings } from '../hooks/useRecordings';
import { linkStillValid, listMessage, type RecordControl } from '../logic/recordings';
import { describeError } from '../logic/errors';
import { RecordingRow } from './RecordingRow';

export interface RecordingsPanelProps {
  recordings: Recordings;
  /** The camera is being recorded now. */
  recordingNow: boolean;
  control: RecordControl['kind'];
  /** Operators may delete. */
  mayDelete: boolean;
  playingId: string | null;
  onPlay: (recording: Recording) => void;
  /** A recording is gone (deleted here): stop playing it. */
  onDeleted: (id: string) => void;
}

export function RecordingsPanel(props: RecordingsPanelProps) {
  const { recordings, recordingNow, control, mayDelete, playingId, onPlay, onDeleted } = props;
  const { state, refresh, remove } = recordings;
  // Refreshes the "Today"/"Yesterday" words now and then; the list itself comes from events.
  const now = useNow(60_000);
  const message = listMessage(state, recordingNow, control);

  // A signed link lives a few minutes (SIGNED_URL_TTL_S): an old one is fetched afresh before it is used.
  const download = (recording: Recording) => async (event: MouseEvent<HTMLAnchorElement>) => {
    if (linkStillValid(recording.mp4Url, Date.now())) return;
    event.preventDefault();
    await refresh();
    const link = document.querySelector<HTMLAnchorElement>(
      `[data-recording-id="${CSS.escape(recording.id)}"] [data-testid="recording-download"]`,
    );
    if (link) window.location.assign(link.href);
  };

  return (
    <section className="recordings" aria-labelledby="recordings-title" data-testid="recordings">
      <div className="recordings-head">
        <h2 id="recordings-title" className="recordings-title">
          Recordings
        </h2>
        <button
          type="button"
          className="link-button"
          data-testid="recordings-refresh"
          onClick={() => void refresh()}
        >
          Refresh
        </button>
      </div>
      {message !== null ? (
        <p
          className={state.kind === 'error' ? 'recordings-message error' : 'recordings-message hint'}
          data-testid="recordings-message"
          data-state={state.kind}
          role={state.kind === 'error' ? 'alert' : undefined}
        >
          {message}
        </p>
      ) : (
        <ul className="recording-list" data-testid="recording-list">
          {state.kind === 'ready' &&
            state.recordings.map((recording) => (
              <RecordingRow
                key={recording.id}
                recording={recording}
                now={now}
                playing={recording.id === playingId}
                onPlay={() => onPlay(recording)}
                onDownload={(event) => void download(recording)(event)}
                onDelete={
                  mayDelete
                    ? async () => {
                        const failure = await remove(recording.id);
                        if (failure) return describeError(failure).message;
                        onDeleted(recording.id);
                        return null;
                      }
                    : undefined
                }
              />
            ))}
        </ul>
      )}
    </section>
  );
}
