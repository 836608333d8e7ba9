/**
 * Everything the camera page needs for recordings: the Record control's state (the next Start's
 * choice, Record / Stop recording on a live stream), the camera's list, and which one is playing.
 */
import { useCallback, useState } from 'react';
import type { Recording, StartBody, StreamInfo } from '@camstream/protocol';
import { recordControl, startBody, type RecordControl } from '../logic/recordings';
import { useRecordings, type Recordings } from './useRecordings';
import { useRecordRequest, type RecordRequest } from './useRecordRequest';

export interface CameraRecording {
  /** The service records (RECORD is not off): the panel is shown. */
  enabled: boolean;
  control: RecordControl;
  request: RecordRequest;
  setRecordNext: (on: boolean) => void;
  /** The body for the next Start. */
  startBody: StartBody | undefined;
  recordings: Recordings;
  playing: Recording | null;
  play: (recording: Recording | null) => void;
  /** A recording was deleted: stop playing it if it was. */
  forget: (id: string) => void;
}

export interface CameraRecordingInput {
  info: StreamInfo | null;
  startPath: string;
  mayControl: boolean;
  /** A start or stop of the page is in flight. */
  busy: boolean;
  /** Runs after a Record request (refreshes StreamInfo when the event stream is down); stable. */
  afterRequest: () => void;
}

export function useCameraRecording(input: CameraRecordingInput): CameraRecording {
  const { info, startPath, mayControl, busy, afterRequest } = input;
  const [recordNext, setRecordNext] = useState(false);
  const [playing, setPlaying] = useState<Recording | null>(null);
  const enabled = info?.recording !== undefined;
  const recordings = useRecordings(info && info.recording !== undefined ? info.cameraId : null, info);
  const { refresh } = recordings;
  const after = useCallback(() => {
    afterRequest();
    void refresh();
  }, [afterRequest, refresh]);
  const request = useRecordRequest(startPath, after);
  const control = recordControl({ info, mayControl, recordNext, busy: busy || request.pending });
  const forget = useCallback(
    (id: string) => setPlaying((current) => (current?.id === id ? null : current)),
    [],
  );
  return {
    enabled,
    control,
    request,
    setRecordNext,
    startBody: startBody(control),
    recordings,
    playing,
    play: setPlaying,
    forget,
  };
}
