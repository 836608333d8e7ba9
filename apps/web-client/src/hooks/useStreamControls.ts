/**
 * Start and Stop requests: one of each at a time (a second press while one is in flight does nothing),
 * and Stop may cancel a pending start. The outcome shows up through StreamInfo; only failures are kept.
 */
import { useCallback, useRef, useState } from 'react';
import type { StartBody } from '@camstream/protocol';
import { DEFAULT_ENDPOINTS, postStart, postStop, type StreamEndpoints } from '../api';
import type { Pending, RequestError } from '../logic/view';

export interface StreamControls {
  pending: Pending;
  error: RequestError | null;
  /** `body`: `{ record: true }` records the stream it starts. */
  start: (body?: StartBody) => void;
  stop: () => void;
  dismissError: () => void;
}

/**
 * `onStartAnswered`: the start request answered 200 (for `?stats=1`); must be stable. `endpoints`:
 * the camera's routes (the default camera's first-contract routes unless given).
 */
export function useStreamControls(
  afterRequest: () => void,
  onStartAnswered?: () => void,
  endpoints: StreamEndpoints = DEFAULT_ENDPOINTS,
): StreamControls {
  const { start: startPath, stop: stopPath } = endpoints;
  const [pending, setPending] = useState<Pending>({ start: false, stop: false });
  const [error, setError] = useState<RequestError | null>(null);
  // Refs, not state: two clicks within one render must still send one request.
  const inFlight = useRef<Pending>({ start: false, stop: false });
  const stopAskedDuringStart = useRef(false);

  const start = useCallback(
    (body?: StartBody) => {
      if (inFlight.current.start || inFlight.current.stop) return;
      inFlight.current.start = true;
      stopAskedDuringStart.current = false;
      setPending((p) => ({ ...p, start: true }));
      setError(null);
      void postStart(startPath, body).then((result) => {
        inFlight.current.start = false;
        setPending((p) => ({ ...p, start: false }));
        if (result.ok) onStartAnswered?.();
        // A start cancelled by Stop fails on purpose: not worth an error message.
        if (!result.ok && !stopAskedDuringStart.current) setError({ action: 'start', failure: result.error });
        afterRequest();
      });
    },
    [afterRequest, onStartAnswered, startPath],
  );

  const stop = useCallback(() => {
    if (inFlight.current.stop) return;
    inFlight.current.stop = true;
    if (inFlight.current.start) stopAskedDuringStart.current = true;
    setPending((p) => ({ ...p, stop: true }));
    setError(null);
    void postStop(stopPath).then((result) => {
      inFlight.current.stop = false;
      setPending((p) => ({ ...p, stop: false }));
      if (!result.ok) setError({ action: 'stop', failure: result.error });
      afterRequest();
    });
  }, [afterRequest, stopPath]);

  const dismissError = useCallback(() => setError(null), []);

  return { pending, error, start, stop, dismissError };
}
