/**
 * A camera's StreamInfo, pushed over server-sent events. While the event stream is down the hook
 * polls its info route (GET /api/stream for the default camera) every 2 s; EventSource reconnects by itself, and is reopened when it gives up
 * (a non-SSE answer, such as a 502 from a proxy, closes it for good).
 */
import { CLOSED, openEvents, type EventStream } from '../auth/events';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { StreamInfo } from '@camstream/protocol';
import { DEFAULT_ENDPOINTS, fetchStreamInfo, type StreamEndpoints } from '../api';
import { parseStreamInfo } from '../logic/stream-info';
import type { Connection } from '../logic/view';

const POLL_INTERVAL_MS = 2_000;
const REOPEN_DELAY_MS = 3_000;
const FIRST_EVENT_TIMEOUT_MS = 2_000;

export interface StreamInfoState {
  info: StreamInfo | null;
  connection: Connection;
  /** Fetches StreamInfo now unless the event stream is open (it will push the change itself). */
  refresh: () => void;
}

/** `endpoints`: the camera's routes (the default camera's first-contract routes unless given). */
export function useStreamInfo(endpoints: StreamEndpoints = DEFAULT_ENDPOINTS): StreamInfoState {
  const { info: infoPath, events: eventsPath } = endpoints;
  const [info, setInfo] = useState<StreamInfo | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  // Whether the event stream delivers: polled answers are ignored then, they may be older.
  const sseOpen = useRef(false);
  const mounted = useRef(false);

  const poll = useCallback(async () => {
    const result = await fetchStreamInfo(infoPath);
    if (!mounted.current || sseOpen.current) return;
    if (result.ok) setInfo(result.value);
    setConnection(result.ok ? 'polling' : 'down');
  }, [infoPath]);

  useEffect(() => {
    mounted.current = true;
    let source: EventStream | null = null;
    let pollTimer: ReturnType<typeof setInterval> | undefined;
    let reopenTimer: ReturnType<typeof setTimeout> | undefined;

    const startPolling = () => {
      if (pollTimer !== undefined) return;
      void poll();
      pollTimer = setInterval(() => void poll(), POLL_INTERVAL_MS);
    };
    const stopPolling = () => {
      clearInterval(pollTimer);
      pollTimer = undefined;
    };

    const open = () => {
      const events = openEvents(eventsPath);
      source = events;
      events.addEventListener('stream', (event) => {
        const next = parseStreamInfo((event as MessageEvent<string>).data);
        if (!next) return;
        sseOpen.current = true;
        stopPolling();
        setInfo(next);
        setConnection('open');
      });
      events.addEventListener('error', () => {
        sseOpen.current = false;
        setConnection((current) => (current === 'open' || current === 'connecting' ? 'polling' : current));
        startPolling();
        if (events.readyState === CLOSED) {
          events.close();
          reopenTimer = setTimeout(open, REOPEN_DELAY_MS);
        }
      });
    };

    open();
    // An event stream that neither delivers nor fails (a buffering proxy, say) must not leave the
    // page waiting: poll until it delivers.
    const firstEventTimer = setTimeout(() => {
      if (!sseOpen.current) startPolling();
    }, FIRST_EVENT_TIMEOUT_MS);

    return () => {
      mounted.current = false;
      sseOpen.current = false;
      source?.close();
      stopPolling();
      clearTimeout(reopenTimer);
      clearTimeout(firstEventTimer);
    };
  }, [poll, eventsPath]);

  const refresh = useCallback(() => {
    if (!sseOpen.current) void poll();
  }, [poll]);

  return { info, connection, refresh };
}
