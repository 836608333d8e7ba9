/**
 * Every camera the service serves, kept current by the server-sent events of /api/cameras/events.
 * As useStreamInfo does for one camera: GET /api/cameras every 2 s while the event stream is down or
 * silent, and the event stream reopened when the browser gives up on it. After a reconnect, cameras
 * forgotten meanwhile (their `removed` event was missed) are dropped by one GET.
 *
 * `stream` false (one camera's page is on screen): no event stream, a GET every 5 s instead. The page
 * has the camera's own event stream open already, and a browser opens only 6 connections to a host
 * across all its tabs: one more held open per tab would leave a player waiting.
 */
import { CLOSED, openEvents, type EventStream } from '../auth/events';
import { useEffect, useReducer, useRef, useState } from 'react';
import { API_PATHS } from '@camstream/protocol';
import type { StreamInfo } from '@camstream/protocol';
import { fetchCameras } from '../api';
import { parseCamerasEvent, reduceCameras } from '../logic/cameras';
import type { CameraListState } from '../logic/page';
import type { Connection } from '../logic/view';

const POLL_INTERVAL_MS = 2_000;
const REOPEN_DELAY_MS = 3_000;
const FIRST_EVENT_TIMEOUT_MS = 2_000;
const QUIET_POLL_INTERVAL_MS = 5_000;

export interface CamerasState extends CameraListState {
  connection: Connection;
}

export function useCameras(stream: boolean): CamerasState {
  const [cameras, dispatch] = useReducer(reduceCameras, null as readonly StreamInfo[] | null);
  const [unavailable, setUnavailable] = useState(false);
  const [connection, setConnection] = useState<Connection>('connecting');
  const sseOpen = useRef(false);

  useEffect(() => {
    if (stream) return;
    let live = true;
    const load = async () => {
      const result = await fetchCameras();
      if (!live) return;
      if (result.ok) dispatch({ type: 'list', cameras: result.value });
      setUnavailable(!result.ok);
    };
    void load();
    const timer = setInterval(() => void load(), QUIET_POLL_INTERVAL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [stream]);

  useEffect(() => {
    if (!stream) return;
    let live = true;
    let source: EventStream | null = null;
    let pollTimer: ReturnType<typeof setInterval> | undefined;
    let reopenTimer: ReturnType<typeof setTimeout> | undefined;
    let opened = false;
    // Cameras heard of over the event stream since the last reconciling GET was sent.
    let heardSince = new Set<string>();

    const poll = async () => {
      const result = await fetchCameras();
      if (!live || sseOpen.current) return;
      if (result.ok) {
        dispatch({ type: 'list', cameras: result.value });
        setUnavailable(false);
      } else {
        setUnavailable(true);
      }
      setConnection(result.ok ? 'polling' : 'down');
    };
    const startPolling = () => {
      if (pollTimer !== undefined) return;
      void poll();
      pollTimer = setInterval(() => void poll(), POLL_INTERVAL_MS);
    };
    const stopPolling = () => {
      clearInterval(pollTimer);
      pollTimer = undefined;
    };
    /** After a reconnect: drop what the service no longer lists (and was not heard of since). */
    const reconcile = async () => {
      heardSince = new Set();
      const result = await fetchCameras();
      if (!live || !result.ok) return;
      const keep = new Set([...result.value.map((c) => c.cameraId), ...heardSince]);
      dispatch({ type: 'prune', keep });
    };

    const open = () => {
      const events = openEvents(API_PATHS.camerasEvents);
      source = events;
      const onEvent = (event: Event) => {
        const parsed = parseCamerasEvent(event.type, (event as MessageEvent<string>).data);
        if (!parsed) return;
        if (parsed.type === 'camera') heardSince.add(parsed.info.cameraId);
        sseOpen.current = true;
        stopPolling();
        dispatch(parsed);
        setUnavailable(false);
        setConnection('open');
      };
      events.addEventListener('camera', onEvent);
      events.addEventListener('removed', onEvent);
      events.addEventListener('open', () => {
        if (opened) void reconcile();
        opened = true;
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
    // The list at once too, in case the event stream is slow to deliver (a buffering proxy) or refused
    // (a service without /api/cameras): the page is not left on "Connecting…".
    void fetchCameras().then((result) => {
      if (!live || sseOpen.current) return;
      if (result.ok) dispatch({ type: 'list', cameras: result.value });
      else setUnavailable(true);
    });
    const firstEventTimer = setTimeout(() => {
      if (!sseOpen.current) startPolling();
    }, FIRST_EVENT_TIMEOUT_MS);

    return () => {
      live = false;
      sseOpen.current = false;
      source?.close();
      stopPolling();
      clearTimeout(reopenTimer);
      clearTimeout(firstEventTimer);
      setConnection('connecting');
    };
  }, [stream]);

  return { cameras, unavailable, connection };
}
