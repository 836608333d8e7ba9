/**
 * A recording's playlist (RFC 8216): an EVENT playlist while it is written (it only grows), a VOD
 * one with EXT-X-ENDLIST once it ends, so a crash leaves a playable recording that the next boot
 * closes (store.ts). Pure: rendering, and reading back what rendering wrote (the index at boot).
 */

export interface RecordedSegment {
  readonly name: string;
  /** Seconds. */
  readonly duration: number;
  /** Its run's init segment (EXT-X-MAP). */
  readonly init: string;
  readonly discontinuity: boolean;
  /** Wall clock of its first frame, ms. */
  readonly programDateTime: number;
}

export const RECORDING_PLAYLIST = 'playlist.m3u8';

export function renderRecordingPlaylist(segments: readonly RecordedSegment[], ended: boolean): string {
  // §4.3.3.1: each EXTINF, rounded to the nearest whole second, is at most the target duration.
  const target = Math.max(1, ...segments.map((segment) => Math.round(segment.duration)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${target}`,
    `#EXT-X-PLAYLIST-TYPE:${ended ? 'VOD' : 'EVENT'}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
    '#EXT-X-MEDIA-SEQUENCE:0',
  ];
  let init: string | undefined;
  segments.forEach((segment, index) => {
    if (segment.discontinuity && index > 0) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.init !== init) {
      init = segment.init;
      lines.push(`#EXT-X-MAP:URI="${init}"`);
    }
    if (index === 0 || segment.discontinuity) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTime).toISOString()}`);
    }
    lines.push(`#EXTINF:${segment.duration.toFixed(5)},`, segment.name);
  });
  if (ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

export interface ReadPlaylist {
  readonly segments: readonly RecordedSegment[];
  readonly ended: boolean;
}

/** Reads back a playlist renderRecordingPlaylist wrote (the segments' times from the last date). */
export function parseRecordingPlaylist(text: string): ReadPlaylist {
  const segments: RecordedSegment[] = [];
  let init = '';
  let duration: number | undefined;
  let discontinuity = false;
  let clock = NaN;
  let ended = false;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line === '#EXTM3U') continue;
    if (line === '#EXT-X-ENDLIST') ended = true;
    else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line.startsWith('#EXT-X-MAP:')) init = /URI="([^"]+)"/.exec(line)?.[1] ?? init;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) clock = Date.parse(line.slice(25));
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (!line.startsWith('#') && duration !== undefined && Number.isFinite(duration)) {
      segments.push({ name: line, duration, init, discontinuity, programDateTime: clock });
      clock += duration * 1000;
      duration = undefined;
      discontinuity = false;
    }
  }
  return { segments, ended };
}
