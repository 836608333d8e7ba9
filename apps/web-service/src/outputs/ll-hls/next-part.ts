/**
 * Which part the packager makes next, one rule for both of its uses: the playlist's
 * EXT-X-PRELOAD-HINT (§6.2.6) names it, and a request for a part not made yet is held only if it is
 * that part. Pure.
 */
import { partName } from '../names.js';
import type { Cutter, RunView } from './cutter.js';

/** Whether part `part` of segment `msn` of stream `streamId` is the next part the cutter can make. */
export function isNextPart(
  cutter: Pick<Cutter, 'run' | 'nextMsn'>,
  streamId: string,
  msn: number,
  part: number,
): boolean {
  const run = cutter.run;
  if (!run || run.streamId !== streamId) return false;
  const open = run.open;
  if (open) {
    if (msn === open.msn) return part === open.parts.length;
    return msn === open.msn + 1 && part === 0;
  }
  // Between the run's start and its first frame: part 0 of the next segment.
  return msn === cutter.nextMsn && part === 0;
}

/** The names `isNextPart` says yes to (egress/feed.ts: what a worker may hold a request for). */
export function nextPartNames(cutter: Pick<Cutter, 'run' | 'nextMsn'>): string[] {
  const run = cutter.run;
  if (!run) return [];
  const open = run.open;
  if (!open) return [partName(run.streamId, cutter.nextMsn, 0)];
  return [partName(run.streamId, open.msn, open.parts.length), partName(run.streamId, open.msn + 1, 0)];
}

/**
 * The part most likely next, for the hint: part 0 of the next segment once the open one is long
 * enough (`targetDuration`, seconds), else the open segment's next index.
 */
export function preloadHint(run: RunView, nextMsn: number, targetDuration: number): string {
  const open = run.open;
  // A run that has made no segment yet (a restarted segmenter): part 0 of the next segment, as
  // isNextPart has it. The playlist still lists parts, so it must still hint the next one.
  if (!open) return partName(run.streamId, nextMsn, 0);
  const { timescale } = run.init!;
  const segmentTicks = targetDuration * timescale;
  if (run.frames.length === 0 && open.duration >= segmentTicks - run.lastFrameTicks / 2) {
    return partName(run.streamId, open.msn + 1, 0);
  }
  return partName(run.streamId, open.msn, open.parts.length);
}
