/**
 * A player's-eye record of a live LL-HLS stream while a fault happens: blocking playlist reloads
 * for the preload-hinted part (so each part is seen the moment it is listed), every playlist judged
 * against the one before (test/helpers/ll-hls.ts), each part's arrival time, the HTTP answers. Runs
 * until stopped; loopback only.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { judgeLlHlsPlaylist, preloadHint, type MediaName, type MediaPlaylist } from './ll-hls.js';

export interface SeenPart {
  readonly uri: string;
  readonly msn: number;
  /** Wall-clock ms when the playlist first listed it. */
  readonly at: number;
}

export interface LiveWatch {
  readonly parts: readonly SeenPart[];
  /** Rule violations, each with the playlist that broke it. */
  readonly violations: readonly string[];
  /** Answers by HTTP status. */
  readonly answers: ReadonlyMap<number, number>;
  /** Media sequence numbers of the segments seen with EXT-X-DISCONTINUITY. */
  readonly discontinuities: ReadonlySet<number>;
  /** The first part listed after `since` that followed a pause of at least `gapMs` in new parts. */
  firstPartAfterGap(since: number, gapMs?: number): SeenPart | undefined;
  /** The first part of the newest segment seen with EXT-X-DISCONTINUITY (where the stream went on). */
  firstPartAfterDiscontinuity(): SeenPart | undefined;
  /** The longest time between two new parts (or from `from` to the first), within [from, to]. */
  longestGapMs(from: number, to: number): number;
  stop(): Promise<void>;
}

const blockingQuery = (hint: MediaName) => `?_HLS_msn=${hint.msn}&_HLS_part=${hint.part ?? 0}`;

export function watchLive(baseUrl: string): LiveWatch {
  const parts: SeenPart[] = [];
  const seen = new Set<string>();
  const violations: string[] = [];
  const answers = new Map<number, number>();
  const discontinuities = new Set<number>();
  const controller = new AbortController();
  let previous: MediaPlaylist | undefined;
  let hint: MediaName | undefined;

  const record = (playlist: MediaPlaylist, at: number) => {
    for (const segment of playlist.segments) {
      if (segment.discontinuity) discontinuities.add(segment.mediaSequenceNumber);
      for (const part of segment.parts) {
        if (seen.has(part.uri)) continue;
        seen.add(part.uri);
        parts.push({ uri: part.uri, msn: segment.mediaSequenceNumber, at });
      }
    }
  };

  const loop = (async () => {
    while (!controller.signal.aborted) {
      let status: number;
      let text: string;
      try {
        const response = await fetch(`${baseUrl}/hls/stream.m3u8${hint ? blockingQuery(hint) : ''}`, {
          signal: controller.signal,
        });
        status = response.status;
        text = await response.text();
      } catch {
        if (controller.signal.aborted) return;
        await sleep(50); // the service is restarting
        continue;
      }
      const at = Date.now();
      answers.set(status, (answers.get(status) ?? 0) + 1);
      if (status === 503) continue; // three target durations without the part: ask again
      if (status !== 200) {
        hint = undefined; // gone (404), or a new stream ahead of our hint (400)
        previous = undefined;
        await sleep(50);
        continue;
      }
      const judgement = judgeLlHlsPlaylist(text, previous);
      if (!judgement.playlist) {
        violations.push(`${judgement.violations.join('; ')}\n${text}`);
        hint = undefined;
        continue;
      }
      for (const violation of judgement.violations) violations.push(`${violation}\n${text}`);
      previous = judgement.playlist;
      record(judgement.playlist, at);
      hint = preloadHint(judgement.playlist);
    }
  })();

  return {
    parts,
    violations,
    answers,
    discontinuities,
    firstPartAfterGap(since, gapMs = 400) {
      let before = since;
      for (const part of parts) {
        if (part.at < since) {
          before = part.at;
          continue;
        }
        if (part.at - before >= gapMs) return part;
        before = part.at;
      }
      return undefined;
    },
    firstPartAfterDiscontinuity() {
      if (discontinuities.size === 0) return undefined;
      const msn = Math.max(...discontinuities);
      return parts.find((part) => part.msn >= msn);
    },
    longestGapMs(from, to) {
      let longest = 0;
      let before = from;
      for (const part of parts) {
        if (part.at < from || part.at > to) continue;
        longest = Math.max(longest, part.at - before);
        before = part.at;
      }
      return Math.max(longest, to - before);
    },
    async stop() {
      controller.abort();
      await loop;
    },
  };
}
