/**
 * A camera's recordings: fetched when the panel appears, again when a recording ends or is cut into
 * the next one (the camera's StreamInfo says so over its event stream: no polling), on Refresh, and
 * after a deletion.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { StreamInfo } from '@camstream/protocol';
import { deleteRecording, fetchRecordings } from '../api';
import { describeError, type ApiFailure } from '../logic/errors';
import { recordingsChanged, type RecordingListState } from '../logic/recordings';

export interface Recordings {
  state: RecordingListState;
  refresh: () => Promise<void>;
  /** Deletes one; resolves with the failure, if any (the list is fetched again either way). */
  remove: (id: string) => Promise<ApiFailure | null>;
}

const LOADING: RecordingListState = { kind: 'loading' };

/** `cameraId` null: not known yet (nothing is fetched). */
export function useRecordings(cameraId: string | null, info: StreamInfo | null): Recordings {
  // Whose list it is: another camera's (or none yet) reads as loading.
  const [answer, setAnswer] = useState<{ cameraId: string; state: RecordingListState } | null>(null);
  // Answers to an older request (another camera, an earlier refresh) are dropped.
  const generation = useRef(0);

  const refresh = useCallback(async () => {
    if (cameraId === null) return;
    const mine = ++generation.current;
    const result = await fetchRecordings(cameraId);
    if (mine !== generation.current) return;
    setAnswer({
      cameraId,
      state: result.ok
        ? { kind: 'ready', recordings: result.value }
        : { kind: 'error', message: describeError(result.error).message },
    });
  }, [cameraId]);

  useEffect(() => {
    void refresh();
    return () => {
      generation.current += 1;
    };
  }, [refresh]);

  // A recording that ends (or is cut) is listed finished by the time the service says so.
  const previous = useRef<StreamInfo | null>(null);
  useEffect(() => {
    if (recordingsChanged(previous.current, info)) void refresh();
    previous.current = info;
  }, [info, refresh]);

  const remove = useCallback(
    async (id: string) => {
      const result = await deleteRecording(id);
      await refresh();
      return result.ok ? null : result.error;
    },
    [refresh],
  );

  const state = answer !== null && answer.cameraId === cameraId ? answer.state : LOADING;
  return { state, refresh, remove };
}
