import { describe, expect, test } from 'vitest';
import { isPlayable, nextMediaSequence, parsePlaylist } from '../src/segmenter/playlist.js';

// As ffmpeg 5.1's hls muxer writes it with independent_segments and program_date_time.
const LIVE = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:41
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-11-22T00:09:25.369+0000
mwr2xq4f-0c41f1fc-00041.ts
#EXT-X-DISCONTINUITY
#EXTINF:0.966667,
#EXT-X-PROGRAM-DATE-TIME:2026-11-22T00:09:26.369+0000
mwr2xq4f-0c41f1fc-00042.ts
`;

describe('parsePlaylist', () => {
  test('reads target duration, media sequence, segments and discontinuities', () => {
    expect(parsePlaylist(LIVE)).toEqual({
      targetDuration: 1,
      mediaSequence: 41,
      endList: false,
      segments: [
        { uri: 'mwr2xq4f-0c41f1fc-00041.ts', duration: 1, discontinuity: false },
        { uri: 'mwr2xq4f-0c41f1fc-00042.ts', duration: 0.966667, discontinuity: true },
      ],
    });
    expect(nextMediaSequence(parsePlaylist(LIVE)!)).toBe(43);
  });

  test('reads the end list and CRLF line ends', () => {
    const ended = `${LIVE}#EXT-X-ENDLIST\n`.replaceAll('\n', '\r\n');
    expect(parsePlaylist(ended)).toMatchObject({ endList: true, segments: [{}, {}] });
  });

  test('a playlist without a media sequence starts at 0', () => {
    expect(parsePlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n')).toMatchObject({
      mediaSequence: 0,
      segments: [],
    });
  });

  test.each([
    ['empty', ''],
    ['not a playlist', '<html>'],
    ['no #EXTM3U first', '#EXT-X-TARGETDURATION:1\n#EXTM3U\n'],
    ['no target duration', '#EXTM3U\n#EXTINF:1,\na.ts\n'],
    ['bad target duration', '#EXTM3U\n#EXT-X-TARGETDURATION:x\n'],
    ['negative sequence', '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:-1\n'],
  ])('%s: undefined', (_name, text) => {
    expect(parsePlaylist(text)).toBeUndefined();
  });
});

describe('isPlayable', () => {
  test('needs one complete segment', () => {
    expect(isPlayable(LIVE)).toBe(true);
    expect(isPlayable('#EXTM3U\n#EXT-X-TARGETDURATION:1\n')).toBe(false);
    // Cut off after #EXTINF: the segment's URI is not there yet.
    expect(isPlayable('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n')).toBe(false);
    expect(isPlayable('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:0,\na.ts\n')).toBe(false);
    expect(isPlayable('#EXTM3U\n#EXT-X-TARGETDURATION:1\nno-extinf.ts\n')).toBe(false);
  });

  test('can count only the segments of one segmenter run', () => {
    expect(isPlayable(LIVE, (uri) => uri.startsWith('mwr2xq4f-0c41f1fc-'))).toBe(true);
    expect(isPlayable(LIVE, (uri) => uri.startsWith('other-'))).toBe(false);
  });
});
