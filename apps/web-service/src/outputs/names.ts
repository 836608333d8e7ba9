/**
 * File names in the HLS folder. Segments carry a stream id that is new for every segmenter run, so
 * a name is never reused and players and caches may keep a segment forever (immutable). Only the
 * names below are served, written or removed: HLS_DIR may be a folder that holds other files.
 */
import { randomBytes } from 'node:crypto';
import { STREAM_PLAYLIST_NAME } from '@camstream/protocol';

export const PLAYLIST_NAME = STREAM_PLAYLIST_NAME;

/** `<base36 time, 8+ digits>-<8 hex>`: unique per run, and sorts by start time (until 2059). */
const STREAM_ID = '[0-9a-z]{8,12}-[0-9a-f]{8}';
/** `<streamId>-<sequence, 5+ digits>.ts` */
const SEGMENT_NAME = new RegExp(`^${STREAM_ID}-\\d{5,10}\\.ts$`);

export function newStreamId(now = Date.now()): string {
  // Padded: a clock before mid-1972 (a machine without a real-time clock, before NTP) gives fewer
  // than 8 digits, and names that STREAM_ID, so /hls, would refuse.
  return `${now.toString(36).padStart(8, '0')}-${randomBytes(4).toString('hex')}`;
}

/** The `-hls_segment_filename` template (ffmpeg replaces %05d with the sequence number). */
export function segmentTemplate(streamId: string): string {
  return `${streamId}-%05d.ts`;
}

export function isSegmentName(name: string): boolean {
  return SEGMENT_NAME.test(name);
}

export function isSegmentOf(streamId: string, uri: string): boolean {
  return uri.startsWith(`${streamId}-`) && isSegmentName(uri);
}

/** What /hls serves: the playlist and finished segments; never temp files, dotfiles or paths. */
export function isServableName(name: string): boolean {
  return name === PLAYLIST_NAME || isSegmentName(name);
}

/** What the service may delete: servable names plus ffmpeg's `.tmp` files for them (temp_file). */
export function isOwnedName(name: string): boolean {
  return isServableName(name.endsWith('.tmp') ? name.slice(0, -'.tmp'.length) : name);
}

/* Low-Latency HLS (llhls/packager.ts): served from memory, never written to HLS_DIR. */

const pad = (msn: number): string => String(msn).padStart(5, '0');
/** `<streamId>-<msn>.m4s` (a segment) or `<streamId>-<msn>.<part>.m4s` (a part of it). */
const LL_MEDIA_NAME = new RegExp(`^(${STREAM_ID})-(\\d{5,10})(?:\\.(\\d{1,4}))?\\.m4s$`);
const LL_INIT_NAME = new RegExp(`^${STREAM_ID}-init\\.mp4$`);

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
  return LL_INIT_NAME.test(name) || LL_MEDIA_NAME.test(name);
}
