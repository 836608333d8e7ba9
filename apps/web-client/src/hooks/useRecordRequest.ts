/**
 * Record and Stop recording on a running stream: a start with `{"record": true | false}` (the stream
 * goes on). One request at a time; the outcome shows up through StreamInfo (`recording`), only a
 * failure is kept.
 */
import { useCallback, useRef, useState } from 'react';
import { postStart } from '../api';
import type { ApiFailure } from '../logic/errors';

export interface RecordRequest {
  pending: boolean;
  error: ApiFailure | null;
  setRecording: (on: boolean) => void;
  dismissError: () => void;
}

/** `startPath`: the camera's start route; `afterRequest`: runs when the request is answered (stable). */
export function useRecordRequest(startPath: string, afterRequest: () => void): RecordRequest {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiFailure | null>(null);
  const inFlight = useRef(false);

  const setRecording = useCallback(
    (on: boolean) => {
      if (inFlight.current) return;
      inFlight.current = true;
      setPending(true);
      setError(null);
      void postStart(startPath, { record: on }).then((result) => {
        inFlight.current = false;
        setPending(false);
        if (!result.ok) setError(result.error);
        afterRequest();
      });
    },
    [startPath, afterRequest],
  );

  const dismissError = useCallback(() => setError(null), []);
  return { pending, error, setRecording, dismissError };
}
