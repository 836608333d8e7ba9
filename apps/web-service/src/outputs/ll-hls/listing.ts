/**
 * What the packager lists and holds, from its segments and its cutter's open segment: the playlist
 * model (segments within the listing, the open segment's parts, the preload hint) and the bytes
 * held. Pure.
 */
import type { Cutter } from './cutter.js';
import type { PlaylistModel } from './model.js';
import { preloadHint } from './next-part.js';
import { listedEntries, listedFrom, segmentEntry, segmentSeconds, type Segment } from './segments.js';

export interface ListingOptions {
  readonly listSize: number;
  readonly targetDuration: number;
  readonly partTarget: number;
  readonly discontinuitySequence: number;
}

/** The playlist model; undefined while nothing is listed. */
export function buildModel(
  cutter: Pick<Cutter, 'run' | 'nextMsn'>,
  segments: readonly Segment[],
  options: ListingOptions,
): PlaylistModel | undefined {
  const { listSize, targetDuration } = options;
  const run = cutter.run;
  const listed = segments.slice(listedFrom(segments, listSize, targetDuration));
  const open = run?.open && run.open.parts.length > 0 && run.open.partsListable ? run.open : undefined;
  if (listed.length === 0 && !open) return undefined;
  return {
    targetDuration,
    partTarget: options.partTarget,
    discontinuitySequence: options.discontinuitySequence,
    segments: listedEntries(listed, open ? segmentSeconds(open) : 0, targetDuration),
    open: open ? segmentEntry(open, true) : undefined,
    preloadHint: run ? preloadHint(run, cutter.nextMsn, targetDuration) : undefined,
  };
}

/** The bytes and parts held: init segments, segments (or their parts), the open one, pending frames. */
export function heldBytes(
  cutter: Pick<Cutter, 'run'>,
  segments: readonly Segment[],
  inits: Iterable<Buffer>,
): { bytesHeld: number; partsHeld: number } {
  let bytesHeld = 0;
  let partsHeld = 0;
  for (const init of inits) bytesHeld += init.length;
  const run = cutter.run;
  const all = run?.open ? [...segments, run.open] : segments;
  for (const segment of all) {
    partsHeld += segment.parts.length;
    if (segment.bytes) bytesHeld += segment.bytes.length;
    else for (const part of segment.parts) bytesHeld += part.bytes.length;
  }
  for (const frame of run?.frames ?? []) bytesHeld += frame.length;
  return { bytesHeld, partsHeld };
}
