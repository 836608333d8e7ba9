/**
 * Recording ids: `<camera>~<YYYY-MM-DD>~<HH-MM-SS.mmm>Z`, the camera and the UTC start time, which
 * also name its folder (RECORD_DIR/<camera>/<date>/<time>/). Pure, so the door (door/access.ts) can
 * tell the camera a recording's URL is about.
 */
import { isValidCameraId } from '@camstream/protocol';

export const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const TIME = /^\d{2}-\d{2}-\d{2}\.\d{3}Z$/;

/** The id and folder parts of a recording that starts at `startMs`. */
export function recordingName(cameraId: string, startMs: number): { date: string; time: string; id: string } {
  const iso = new Date(startMs).toISOString(); // 2026-12-05T23:55:34.123Z
  const date = iso.slice(0, 10);
  const time = `${iso.slice(11, 23).replaceAll(':', '-')}Z`;
  return { date, time, id: `${cameraId}~${date}~${time}` };
}

/** The camera and start of an id, or undefined if it could not be one of ours. */
export function parseRecordingId(
  id: string,
): { cameraId: string; date: string; time: string; startMs: number } | undefined {
  const parts = id.split('~');
  if (parts.length !== 3) return undefined;
  const [cameraId, date, time] = parts as [string, string, string];
  if (!isValidCameraId(cameraId) || !DATE.test(date) || !TIME.test(time)) return undefined;
  const startMs = Date.parse(`${date}T${time.slice(0, 8).replaceAll('-', ':')}${time.slice(8)}`);
  if (!Number.isFinite(startMs)) return undefined;
  return { cameraId, date, time, startMs };
}
