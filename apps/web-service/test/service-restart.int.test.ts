/**
 * The service's segmenter killed while live, with real ffmpeg and a real Mosquitto: a new one takes
 * over and the stream plays on, in plain HLS (files, EXT-X-DISCONTINUITY, sequence numbers that never
 * go back) and in LL-HLS (the playlist stays up, judged on every reload, a new EXT-X-MAP).
 */
import { connectAsync } from 'mqtt';
import { describe, expect, test } from 'vitest';
import { parseCommandEvent } from '@camstream/protocol';
import { useCleanup } from '../../../test/helpers/cleanup.js';
import { completeSegments, judgeLlHlsPlaylist, parseMediaPlaylist } from '../../../test/helpers/ll-hls.js';
import { decodeHls } from '../../../test/helpers/player.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { post, segmentListed, startWithMosquitto } from './helpers/service.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto', 'mosquitto_pub');

describe.runIf(ready)('the service with Mosquitto: a segmenter killed while live', () => {
  const cleanup = useCleanup();

  test('HLS_MODE=plain: a segmenter killed while live is restarted and the stream plays on', async () => {
    const { broker, service } = await startWithMosquitto(cleanup, { HLS_MODE: 'plain' });
    expect((await service.api('/api/stream/start', post)).status).toBe(200);
    const [pid] = await service.segmenterPids();
    const before = await (await fetch(`${service.base}/hls/stream.m3u8`)).text();
    process.kill(pid!, 'SIGKILL');

    await waitFor(
      'a new segmenter with a continued playlist',
      async () => {
        const pids = await service.segmenterPids();
        if (pids.length !== 1 || pids[0] === pid) return false;
        const text = await (await fetch(`${service.base}/hls/stream.m3u8`)).text();
        return text.includes('#EXT-X-DISCONTINUITY') && text;
      },
      { timeoutMs: 20_000 },
    );
    const sequence = (text: string) => Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);
    const after = await (await fetch(`${service.base}/hls/stream.m3u8`)).text();
    expect(sequence(after)).toBeGreaterThan(sequence(before)); // never goes back: players keep going
    expect((await service.api('/api/stream')).body).toMatchObject({ state: 'live' });
    expect((await decodeHls(`${service.base}/hls/stream.m3u8`, 1.5)).seconds).toBeGreaterThanOrEqual(1.4);

    // Invalid payloads on the camera's topics are ignored, never fatal.
    const intruder = await connectAsync(broker.url, { protocolVersion: 4 });
    cleanup.add(() => intruder.endAsync());
    await intruder.publishAsync('cameras/cam1/status', '{"state":"dancing"', { qos: 1 });
    await intruder.publishAsync('cameras/cam1/events', 'not json', { qos: 1 });
    expect(parseCommandEvent('not json').ok).toBe(false);
    expect((await service.api('/api/stream')).body).toMatchObject({
      state: 'live',
      camera: { state: 'streaming' },
    });
  });

  test('LL-HLS: a segmenter killed while live is restarted; the playlist goes on after EXT-X-DISCONTINUITY with a new EXT-X-MAP', async () => {
    const { service } = await startWithMosquitto(cleanup);
    expect((await service.api('/api/stream/start', post)).status).toBe(200);
    const before = await segmentListed(service);
    const [pid] = await service.segmenterPids();
    const oldMap = before.segments[0]!.map.uri;
    process.kill(pid!, 'SIGKILL');

    // Every reload meanwhile, hls-parser's reading of it judged against the one before.
    let previous = before;
    const after = await waitFor(
      'a new segmenter, and its parts after a discontinuity',
      async () => {
        const { status, text } = await service.playlist();
        expect(status).toBe(200); // the playlist stays up while the segmenter is replaced
        const judgement = judgeLlHlsPlaylist(text, previous);
        expect(judgement.violations).toEqual([]);
        previous = judgement.playlist!;
        const pids = await service.segmenterPids();
        if (pids.length !== 1 || pids[0] === pid) return false;
        const restarted = previous.segments.findIndex((s) => s.discontinuity);
        return restarted >= 0 && previous.segments.at(-1)!.map.uri !== oldMap && previous;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const index = after.segments.findIndex((s) => s.discontinuity);
    const first = after.segments[index]!;
    expect(first.map.uri).not.toBe(oldMap);
    expect(after.segments[index - 1]?.map.uri).toBe(oldMap);
    // Media sequence numbers never go back: the new run continues after the old one's last segment.
    const lastBefore = before.segments.at(-1)!.mediaSequenceNumber;
    expect(first.mediaSequenceNumber).toBeGreaterThan(lastBefore);
    expect(after.mediaSequenceBase!).toBeGreaterThanOrEqual(before.mediaSequenceBase!);
    expect(new Set(after.segments.map((s) => s.map.uri)).size).toBe(2);
    expect((await service.api('/api/stream')).body).toMatchObject({ state: 'live', hlsMode: 'll' });

    // ffmpeg, a player without LL support, plays on once the new run has a segment listed.
    await waitFor(
      'a complete segment of the new run',
      async () => {
        const playlist = parseMediaPlaylist((await service.playlist()).text);
        return completeSegments(playlist).some((s) => s.map.uri !== oldMap);
      },
      { timeoutMs: 10_000 },
    );
    expect((await decodeHls(`${service.base}/hls/stream.m3u8`, 1.5)).seconds).toBeGreaterThanOrEqual(1.4);
    expect(await service.segmenterPids()).not.toContain(pid);
  });
});
