/**
 * Recordings as the page shows them: the Record control a camera offers, the "recording" indicator,
 * the list of a camera's recordings (GET /api/recordings?camera=) read without trusting it blindly,
 * and the words and numbers in it. Pure: times come in as arguments.
 */
import type { Recording, StreamInfo } from '@camstream/protocol';

/** What the Record control offers for a camera. */
export type RecordControl =
  /** RECORD=off on the service (no `recording` in StreamInfo), no camera yet, or a viewer token. */
  | { kind: 'none' }
  /** RECORD=always: every stream is recorded; nothing to choose. */
  | { kind: 'always' }
  /** Not streaming: a checkbox whose choice goes with the next Start (`"record": true`). */
  | { kind: 'next-start'; checked: boolean; disabled: boolean }
  /** Streaming (or on its way): a button that starts or ends the recording of the running stream. */
  | { kind: 'live'; recording: boolean; disabled: boolean };

export interface RecordControlInput {
  info: StreamInfo | null;
  /** The token may start and stop the camera (canControl). */
  mayControl: boolean;
  /** The person's choice for the next Start. */
  recordNext: boolean;
  /** A start, stop or record request of the page is in flight. */
  busy: boolean;
}

export function recordControl({ info, mayControl, recordNext, busy }: RecordControlInput): RecordControl {
  if (!info || info.recording === undefined || !mayControl) return { kind: 'none' };
  if (info.recordMode === 'always') return { kind: 'always' };
  if (info.state === 'idle') return { kind: 'next-start', checked: recordNext, disabled: busy };
  return { kind: 'live', recording: info.recording, disabled: busy || info.state !== 'live' };
}

/** The body of a Start: `{"record": true}` when the person ticked Record, none otherwise. */
export const startBody = (control: RecordControl): { record: true } | undefined =>
  control.kind === 'next-start' && control.checked ? { record: true } : undefined;

/** The red dot's words: "REC 1:05" while a live stream is recorded; null otherwise. */
export interface RecordingIndicator {
  /** "1:05"; null when the service does not say since when (an older service). */
  elapsed: string | null;
  /** For screen readers and the title. */
  label: string;
}

export function recordingIndicator(info: StreamInfo | null, nowMs: number): RecordingIndicator | null {
  if (!info?.recording || info.state !== 'live') return null;
  const since = info.recordingSince === undefined ? NaN : Date.parse(info.recordingSince);
  if (!Number.isFinite(since)) return { elapsed: null, label: 'Recording' };
  const elapsed = formatClock(Math.max(0, nowMs - since) / 1000);
  return { elapsed, label: `Recording for ${elapsed}` };
}

/**
 * Whether a recording has just ended, so the list should be fetched again: the camera was being
 * recorded while its stream ran, and no longer is. The service says so once the recording is closed
 * (`recording` false on a live stream, or the stream `idle` after a stop; `stopping` is too early).
 */
export function recordingEnded(previous: StreamInfo | null, next: StreamInfo | null): boolean {
  const recordingNow = (info: StreamInfo | null) => info?.recording === true && info.state !== 'idle';
  return recordingNow(previous) && !recordingNow(next);
}

/**
 * Whether a recording was cut (RECORD_MAX_SECONDS: a stream that never stops is kept as hours): the
 * recording goes on under a new `recordingId`, which the service sends once the one before is closed.
 */
export function recordingCut(previous: StreamInfo | null, next: StreamInfo | null): boolean {
  const before = previous?.recordingId;
  const after = next?.recordingId;
  return before !== undefined && after !== undefined && before !== after;
}

/** Whether the list should be fetched again: a recording ended, or was cut and goes on in a new one. */
export const recordingsChanged = (previous: StreamInfo | null, next: StreamInfo | null): boolean =>
  recordingEnded(previous, next) || recordingCut(previous, next);

/** "0:07", "12:34", "1:02:03": seconds as a clock, rounded down to whole seconds. */
export function formatClock(seconds: number): string {
  const total = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** A recording's length: its seconds rounded to the nearest second ("0:10" for 9.6 s). */
export const formatDuration = (seconds: number): string => formatClock(Math.round(seconds));

/** "840 B", "512 kB", "2.7 MB", "1.4 GB" (SI units, as file managers show downloads). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1000) return `${Math.max(0, Math.round(bytes || 0))} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** When a recording began, in the page's time zone: "Today 14:03:12", "Yesterday …", "2026-12-01 …". */
export function formatStart(iso: string, nowMs: number): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const dayOf = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const today = new Date(nowMs);
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  const day = dayOf(date);
  if (day === dayOf(today)) return `Today ${time}`;
  if (day === dayOf(yesterday)) return `Yesterday ${time}`;
  return `${day} ${time}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function toRecording(value: unknown): Recording | null {
  if (!isRecord(value)) return null;
  const strings = ['id', 'cameraId', 'start', 'end', 'playlistUrl', 'mp4Url'] as const;
  if (!strings.every((key) => typeof value[key] === 'string')) return null;
  if (typeof value.duration !== 'number' || typeof value.bytes !== 'number') return null;
  if (typeof value.recording !== 'boolean') return null;
  return value as Recording;
}

/** GET /api/recordings's answer, newest first (the service lists oldest first); null if it is not one. */
export function toRecordingList(value: unknown): Recording[] | null {
  if (!isRecord(value) || !Array.isArray(value.recordings)) return null;
  const recordings = value.recordings.map(toRecording);
  if (recordings.some((recording) => recording === null)) return null;
  return (recordings as Recording[]).slice().reverse();
}

/**
 * The expiry (ms) of a signed URL's `?token=<expiryUnix>.<mac>` (docs/security.md), or null when it
 * carries none (no tokens on the service, or a form this page does not know).
 */
export function signedUrlExpiry(url: string): number | null {
  const match = /[?&]token=(\d{1,12})\./.exec(url);
  return match ? Number(match[1]) * 1000 : null;
}

/** A link handed out by the list can still be followed for a while (a signed one expires). */
export function linkStillValid(url: string, nowMs: number, marginMs = 30_000): boolean {
  const expiry = signedUrlExpiry(url);
  return expiry === null || expiry - nowMs > marginMs;
}

/** The list's state, as the panel shows it. */
export type RecordingListState =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; recordings: readonly Recording[] };

/**
 * The sentence the panel shows instead of rows, or null when there are rows to show. `recordingNow`:
 * the camera is being recorded; `control`: what the person may do about it.
 */
export function listMessage(
  state: RecordingListState,
  recordingNow: boolean,
  control: RecordControl['kind'],
): string | null {
  switch (state.kind) {
    case 'loading':
      return 'Loading recordings…';
    case 'error':
      return `Could not load the recordings: ${state.message}`;
    case 'ready':
      if (state.recordings.length > 0) return null;
      if (recordingNow) return 'No recordings yet: the one being made is listed here once it ends.';
      if (control === 'next-start' || control === 'live')
        return 'No recordings yet. Tick Record before Start, or press Record while live.';
      return 'No recordings of this camera yet.';
  }
}
