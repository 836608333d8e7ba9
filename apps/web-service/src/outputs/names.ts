/**
 * The names of the HLS outputs' files: plain HLS on disk (HLS_DIR), LL-HLS in memory. Segments carry
 * a stream id that is new for every remuxer run, so a name is never reused and players and caches may
 * keep a segment forever (immutable). Only the names below are served, written or removed: HLS_DIR
 * may be a folder that holds other files.
 */
import { randomBytes } from 'node:crypto';
import { STREAM_PLAYLIST_NAME } from '@camstream/protocol';

export const PLAYLIST_NAME = STREAM_PLAYLIST_NAME;

/** `<base36 time, 8+ digits>-<8 hex>`: unique per run, and sorts by start time (until 2059). */
const STREAM_ID = '[0-9a-z]{8,12}-[0-9a-f]{8}';
/** `<streamId>-<sequence, 5+ digits>.m4s`: a plain HLS segment (fMP4). */
const SEGMENT_NAME = new RegExp(`^${STREAM_ID}-\\d{5,10}\\.m4s$`);
/** `<streamId>-init.mp4`: a run's init segment (EXT-X-MAP). */
const INIT_NAME = new RegExp(`^${STREAM_ID}-init\\.mp4$`);

export function newStreamId(now = Date.now()): string {
  // Padded: a clock before mid-1972 (a machine without a real-time clock, before NTP) gives fewer
  // than 8 digits, and names that STREAM_ID, so /hls, would refuse.
  return `${now.toString(36).padStart(8, '0')}-${randomBytes(4).toString('hex')}`;
}

export function isSegmentName(name: string): boolean {
  return SEGMENT_NAME.test(name);
}

/**
 * What /hls serves from disk (plain HLS): the playlist, init segments and finished segments; never
 * temp files, dotfiles or paths.
 */
export function isServableName(name: string): boolean {
  return name === PLAYLIST_NAME || isSegmentName(name) || INIT_NAME.test(name);
}

/** A plain HLS file's temporary name, renamed into place once written. */
export function tempName(name: string): string {
  return `${name}.tmp`;
}

/** What the service may delete: servable names plus their temporary names. */
export function isOwnedName(name: string): boolean {
  return isServableName(name.endsWith('.tmp') ? name.slice(0, -'.tmp'.length) : name);
}

/* Segment and part names of both outputs (parts: LL-HLS only, served from memory). */

const pad = (msn: number): string => String(msn).padStart(5, '0');
/** `<streamId>-<msn>.m4s` (a segment) or `<streamId>-<msn>.<part>.m4s` (a part of it). */
const LL_MEDIA_NAME = new RegExp(`^(${STREAM_ID})-(\\d{5,10})(?:\\.(\\d{1,4}))?\\.m4s$`);

export function initName(streamId: string): string {
  return `${streamId}-init.mp4`;
}

export function segmentName(streamId: string, msn: number): string {
  return `${streamId}-${pad(msn)}.m4s`;
}

export function partName(streamId: string, msn: number, part: number): string {
  return `${streamId}-${pad(msn)}.${part}.m4s`;
}

/** A segment or part name, taken apart; undefined for anything else. */
export function parseMediaName(name: string): { streamId: string; msn: number; part?: number } | undefined {
  const match = LL_MEDIA_NAME.exec(name);
  if (!match) return undefined;
  return {
    streamId: match[1]!,
    msn: Number(match[2]),
    ...(match[3] !== undefined && { part: Number(match[3]) }),
  };
}

/** What /hls serves in low-latency mode besides the playlist. */
export function isLowLatencyName(name: string): boolean {
  return INIT_NAME.test(name) || LL_MEDIA_NAME.test(name);
}
