/**
 * Low-Latency HLS as players meet it, judged from outside: the service and agent CLIs on the test
 * source with a real Mosquitto; the playlist read by hls-parser and held to RFC 8216bis reload after
 * reload (test/helpers/ll-hls.ts); ffmpeg as a client without LL support; blocking reloads, delta
 * updates and the preload hint over HTTP; a camera that stalls; and hls.js in Chromium with and
 * without its low-latency mode.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type HlsJs from 'hls.js';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { useCleanup } from './helpers/cleanup.js';
import {
  completeSegments,
  judgeLlHlsPlaylist,
  listedSeconds,
  newestPart,
  parseMediaPlaylist,
  preloadHint,
  type MediaName,
  type MediaPlaylist,
} from './helpers/ll-hls.js';
import { expectPlayableByFfmpeg } from './helpers/player.js';
import { childProcesses, commandLine } from './helpers/processes.js';
import { json, ROOT, startSystem, type System } from './helpers/system.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto');
const haveChromium = ready && haveTools(CHROMIUM_PATH);
const HLS_JS = join(ROOT, 'node_modules/hls.js/dist/hls.min.js');

interface Fetched {
  readonly status: number;
  readonly text: string;
  readonly contentType: string | null;
  /** From the request to the end of the body. */
  readonly ms: number;
}

async function get(system: System, path: string): Promise<Fetched> {
  const began = performance.now();
  const response = await fetch(`${system.baseUrl}${path}`);
  const text = await response.text();
  return {
    status: response.status,
    text,
    contentType: response.headers.get('content-type'),
    ms: performance.now() - began,
  };
}

const playlistPath = (query = '') => `/hls/stream.m3u8${query}`;
const blocking = (hint: MediaName, extra = '') =>
  playlistPath(`?_HLS_msn=${hint.msn}&_HLS_part=${hint.part}${extra}`);

/** The playlist as it is now, checked. */
async function currentPlaylist(system: System): Promise<MediaPlaylist> {
  const { status, text } = await get(system, playlistPath());
  expect(status).toBe(200);
  const judgement = judgeLlHlsPlaylist(text);
  expect(judgement.violations, text).toEqual([]);
  return judgement.playlist!;
}

/** Starts the stream through the API: it answers once a complete segment is listed. */
async function goLive(system: System): Promise<void> {
  expect(await system.api('/api/stream/start', json())).toMatchObject({
    status: 200,
    body: { state: 'live' },
  });
  expect(completeSegments(await currentPlaylist(system)).length).toBeGreaterThan(0);
}

/** Waits (a blocking reload) for the part the playlist hints at, and returns the playlist then. */
async function atLiveEdge(system: System): Promise<MediaPlaylist> {
  const hint = preloadHint(await currentPlaylist(system))!;
  const answer = await get(system, blocking(hint));
  expect(answer.status).toBe(200);
  return parseMediaPlaylist(answer.text);
}

describe.runIf(ready)('LL-HLS, served live', () => {
  const shared = useCleanup('file');
  const cleanup = useCleanup();
  let system: System;
  beforeAll(async () => {
    system = await startSystem(shared, { broker: 'mosquitto' });
    await goLive(system);
  });

  test('the playlist, read by hls-parser, keeps to the spec’s rules reload after reload for 4 s', async () => {
    const snapshots: MediaPlaylist[] = [];
    let previous: MediaPlaylist | undefined;
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      const full = await get(system, playlistPath());
      const fetchedAt = Date.now();
      expect(full.status).toBe(200);
      const judgement = judgeLlHlsPlaylist(full.text, previous);
      expect(judgement.violations, full.text).toEqual([]);
      previous = judgement.playlist!;
      snapshots.push(previous);
      // EXT-X-PROGRAM-DATE-TIME is the wall clock: the newest part ends about now.
      const last = previous.segments.at(-1)!;
      const edge = last.programDateTime!.getTime() + listedSecondsOf(last) * 1000;
      expect(Math.abs(edge - fetchedAt)).toBeLessThan(1500);
      // The delta update keeps to the rules too (with six segments, at most one is old enough).
      const delta = await get(system, playlistPath('?_HLS_skip=YES'));
      const deltaJudgement = judgeLlHlsPlaylist(delta.text);
      expect(deltaJudgement.violations, delta.text).toEqual([]);
      expect(deltaJudgement.playlist!.skip).toBeLessThanOrEqual(1);
      await sleep(250);
    }
    expect(snapshots.length).toBeGreaterThanOrEqual(10);
    // The live edge moved on by about 4 s of parts (the first playlist may list no part yet: the
    // stream's first segment is listed without its part), and media sequence numbers with it.
    const edgeOf = (playlist: MediaPlaylist) => {
      const newest = playlist.segments.at(-1)!;
      return newest.programDateTime!.getTime() + listedSecondsOf(newest) * 1000;
    };
    expect(edgeOf(snapshots.at(-1)!) - edgeOf(snapshots[0]!)).toBeGreaterThanOrEqual(2400);
    expect(newestPart(snapshots.at(-1)!)).toBeDefined();
    expect(snapshots.at(-1)!.mediaSequenceBase).toBeGreaterThanOrEqual(snapshots[0]!.mediaSequenceBase!);
    for (const snapshot of snapshots) {
      expect(snapshot.targetDuration).toBe(1);
      // PART-TARGET from the camera's 30 fps: six frames and 2 % to spare (part-target.ts).
      expect(snapshot.partTargetDuration).toBe(0.204);
      expect(snapshot.lowLatencyCompatibility).toEqual({
        canBlockReload: true,
        canSkipUntil: 6,
        holdBack: 3,
        partHoldBack: 0.612,
      });
    }
    const metrics = (await get(system, '/metrics')).text;
    expect(Number(/^camstream_llhls_parts_made\{camera="[^"]+"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(
      20,
    );
    expect(Number(/^camstream_llhls_bytes_held\{camera="[^"]+"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(
      0,
    );
  });

  test('ffmpeg, a client without LL support, decodes the stream; ffprobe reads it', async () => {
    await expectPlayableByFfmpeg(`${system.baseUrl}/hls/stream.m3u8`, {
      seconds: 4,
      minSeconds: 3.9,
      minFrames: 4 * 30 * 0.9,
    });
  });

  test('a blocking reload for the next part is held until that part is listed, then answered with it', async () => {
    let playlist = await atLiveEdge(system);
    const timings: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      // The part just made; the next one is about PART-TARGET away.
      const hint = preloadHint(playlist)!;
      const answer = await get(system, blocking(hint));
      timings.push(answer.ms);
      expect(answer.status).toBe(200);
      expect(answer.contentType).toBe('application/vnd.apple.mpegurl');
      const judgement = judgeLlHlsPlaylist(answer.text);
      expect(judgement.violations, answer.text).toEqual([]);
      playlist = judgement.playlist!;
      const listed = playlist.segments.flatMap((s) => s.parts.map((p) => p.uri));
      expect(listed).toContain(`${hint.streamId}-${String(hint.msn).padStart(5, '0')}.${hint.part}.m4s`);
    }
    console.info(`blocking reloads answered after ${timings.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    // Held, not answered at once (one may meet a part made early, in a burst of frames)...
    expect(timings.filter((ms) => ms > 50).length).toBeGreaterThanOrEqual(2);
    // ...and not for long: a part is 200 ms of video.
    expect(Math.max(...timings)).toBeLessThan(1500);

    // _HLS_msn alone: held until that segment is complete.
    const open = playlist.segments.at(-1)!;
    expect(open.uri).toBeFalsy();
    const whole = await get(system, playlistPath(`?_HLS_msn=${open.mediaSequenceNumber}`));
    expect(whole.status).toBe(200);
    const completed = completeSegments(parseMediaPlaylist(whole.text)).at(-1)!;
    expect(completed.mediaSequenceNumber).toBeGreaterThanOrEqual(open.mediaSequenceNumber);
    expect(whole.ms).toBeLessThan(3000);
  });

  test('the EXT-X-PRELOAD-HINT part: a request for it is held until it is made, then served as video/mp4', async () => {
    let playlist = await atLiveEdge(system);
    const timings: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const hint = preloadHint(playlist)!;
      const uri = `${hint.streamId}-${String(hint.msn).padStart(5, '0')}.${hint.part}.m4s`;
      const began = performance.now();
      const response = await fetch(`${system.baseUrl}/hls/${uri}`);
      const bytes = Buffer.from(await response.arrayBuffer());
      timings.push(performance.now() - began);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('video/mp4');
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(bytes.toString('latin1', 4, 8)).toBe('moof');
      // The same bytes by name afterwards, and the part listed.
      const again = Buffer.from(await (await fetch(`${system.baseUrl}/hls/${uri}`)).arrayBuffer());
      expect(again.equals(bytes)).toBe(true);
      const answer = await get(system, blocking(hint));
      expect(answer.status).toBe(200);
      playlist = parseMediaPlaylist(answer.text);
      expect(playlist.segments.flatMap((s) => s.parts.map((p) => p.uri))).toContain(uri);
    }
    console.info(`preload-hinted parts served after ${timings.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    expect(timings.filter((ms) => ms > 50).length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...timings)).toBeLessThan(1500);
  });

  test('requests beyond the limits of §6.2.5.2: 400 JSON at once', async () => {
    const playlist = await currentPlaylist(system);
    const newest = newestPart(playlist)!;
    const open = playlist.segments.at(-1)!.mediaSequenceNumber;
    for (const [query, code] of [
      [`?_HLS_msn=${open + 3}`, 'WEB_ERR_HLS_TOO_FAR_AHEAD'],
      [`?_HLS_msn=${open + 3}&_HLS_part=0`, 'WEB_ERR_HLS_TOO_FAR_AHEAD'],
      [`?_HLS_msn=${newest.msn}&_HLS_part=${newest.part + 16}`, 'WEB_ERR_HLS_TOO_FAR_AHEAD'],
      ['?_HLS_part=1', 'WEB_ERR_BAD_REQUEST'],
      ['?_HLS_msn=soon', 'WEB_ERR_BAD_REQUEST'],
    ]) {
      const answer = await get(system, playlistPath(query));
      expect(answer.status, query).toBe(400);
      expect(answer.contentType, query).toMatch(/^application\/json/);
      expect(JSON.parse(answer.text), query).toMatchObject({ statusCode: 400, code, error: 'Bad Request' });
      expect(answer.ms, query).toBeLessThan(1000);
    }
  });

  /**
   * A blank page on an origin of its own (another loopback port), as a page elsewhere that embeds the
   * stream: its requests to the service are cross-origin (CORS). Not about:blank: Chromium's Private
   * Network Access blocks requests from that opaque, insecure origin to loopback.
   */
  async function blankPageOrigin(): Promise<string> {
    const server = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end('<!doctype html><title>another site’s player</title><body></body>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => new Promise((resolve) => server.close(resolve)));
    cleanup.add(() => server.closeAllConnections());
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  /** hls.js from node_modules on a blank page, playing the service's playlist into a muted video. */
  async function playWithHlsJs(lowLatencyMode: boolean) {
    const origin = await blankPageOrigin();
    const browser = await launchBrowser(cleanup);
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(origin);
    await page.addScriptTag({ path: HLS_JS });
    await page.evaluate(
      ({ url, lowLatencyMode }) => {
        type HlsClass = typeof HlsJs;
        const scope = window as unknown as { Hls: HlsClass; hls: InstanceType<HlsClass>; fatal: string[] };
        const video = document.createElement('video');
        video.muted = true;
        video.autoplay = true;
        video.playsInline = true;
        document.body.append(video);
        const { Hls } = scope;
        const hls = new Hls({ lowLatencyMode });
        scope.hls = hls;
        scope.fatal = [];
        hls.on(Hls.Events.ERROR, (_event, data) => {
          if (data.fatal) scope.fatal.push(`${data.type}: ${data.details}`);
        });
        hls.on(Hls.Events.MANIFEST_PARSED, () => void video.play());
        hls.loadSource(url);
        hls.attachMedia(video);
      },
      { url: `${system.baseUrl}/hls/stream.m3u8`, lowLatencyMode },
    );
    return { page, requests, pageErrors };
  }

  async function playback(page: Page) {
    return page.evaluate(() => {
      const video = document.querySelector('video')!;
      const scope = window as unknown as { hls: { latency: number }; fatal: string[] };
      return {
        time: video.currentTime,
        frames: video.getVideoPlaybackQuality().totalVideoFrames,
        latency: scope.hls.latency,
        fatal: scope.fatal,
      };
    });
  }

  /** Plays for `seconds` once playback began: time and decoded frames must advance. */
  async function expectPlaying(page: Page, seconds: number) {
    await waitFor('playback to begin', async () => (await playback(page)).time > 0.3, { timeoutMs: 20_000 });
    const before = await playback(page);
    await page.waitForTimeout(seconds * 1000);
    const after = await playback(page);
    expect(after.fatal).toEqual([]);
    expect(after.time - before.time).toBeGreaterThan(seconds * 0.7);
    expect(after.frames - before.frames).toBeGreaterThan(seconds * 30 * 0.5);
    return after;
  }

  test.runIf(haveChromium)(
    'a player without LL support (hls.js, lowLatencyMode off) plays whole segments, never a part',
    async () => {
      const { page, requests, pageErrors } = await playWithHlsJs(false);
      const after = await expectPlaying(page, 2);
      console.info(`hls.js without low-latency mode: ${after.latency.toFixed(2)} s behind the live edge`);
      // Whole segments only, never a part; it aims at HOLD-BACK (3 s) behind, where segments are.
      const media = requests.filter((url) => url.endsWith('.m4s'));
      expect(media.some((url) => /-\d{5,10}\.m4s$/.test(url))).toBe(true);
      expect(media.filter((url) => /\.\d{1,4}\.m4s$/.test(url))).toEqual([]);
      expect(after.latency).toBeGreaterThan(0);
      expect(after.latency).toBeLessThan(8);
      expect(pageErrors).toEqual([]);
    },
  );

  test.runIf(haveChromium)(
    'hls.js in low-latency mode plays the parts, nearer the live edge than a plain player can',
    async () => {
      const { page, requests, pageErrors } = await playWithHlsJs(true);
      await expectPlaying(page, 1);
      const after = await expectPlaying(page, 2);
      console.info(`hls.js in low-latency mode: ${after.latency.toFixed(2)} s behind the live edge`);
      expect(requests.some((url) => /\.\d{1,4}\.m4s$/.test(url))).toBe(true);
      expect(requests.some((url) => /_HLS_msn=\d+&_HLS_part=\d+/.test(url))).toBe(true);
      // A sanity bound, not a benchmark (bench/ measures glass-to-glass): about 0.6 s on a quiet box,
      // 1.62 s seen on a CI box at load 10; a player without LL support cannot come nearer than three
      // target durations (3 s; the test above sees 4.4 s).
      expect(after.latency).toBeGreaterThan(0);
      expect(after.latency).toBeLessThan(2.5);
      expect(pageErrors).toEqual([]);
    },
  );
});

describe.runIf(ready)('LL-HLS, other configurations and failures', () => {
  const cleanup = useCleanup();

  test('HLS_LIST_SIZE=15: _HLS_skip=YES gives a delta update with the same tail as the full playlist', async () => {
    const system = await startSystem(cleanup, { broker: 'mosquitto', webEnv: { HLS_LIST_SIZE: '15' } });
    await goLive(system);
    await waitFor(
      'more than CAN-SKIP-UNTIL (6 s) plus two segments listed',
      async () => listedSeconds(await currentPlaylist(system)) >= 9,
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    // Both answered when the same part is made: the same state of the playlist.
    const hint = preloadHint(await currentPlaylist(system))!;
    const [full, delta] = await Promise.all([
      get(system, blocking(hint)),
      get(system, blocking(hint, '&_HLS_skip=YES')),
    ]);
    const fullJudgement = judgeLlHlsPlaylist(full.text);
    const deltaJudgement = judgeLlHlsPlaylist(delta.text);
    expect(fullJudgement.violations, full.text).toEqual([]);
    expect(deltaJudgement.violations, delta.text).toEqual([]);
    const whole = fullJudgement.playlist!;
    const skipped = deltaJudgement.playlist!;
    // Independently: the segments that begin more than CAN-SKIP-UNTIL before the end.
    let fromEnd = listedSeconds(whole);
    let older = 0;
    for (const segment of whole.segments) {
      if (fromEnd <= whole.lowLatencyCompatibility!.canSkipUntil + 1e-6) break;
      older += 1;
      fromEnd -= segment.duration;
    }
    expect(older).toBeGreaterThanOrEqual(2);
    expect(delta.text).toContain(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${older}\n`);
    expect(skipped.skip).toBe(older);
    expect(skipped.mediaSequenceBase).toBe(whole.mediaSequenceBase);
    expect(skipped.segments.map((s) => [s.mediaSequenceNumber, s.uri, s.duration])).toEqual(
      whole.segments.slice(older).map((s) => [s.mediaSequenceNumber, s.uri, s.duration]),
    );
    const firstListed = delta.text.indexOf('#EXT-X-PROGRAM-DATE-TIME');
    expect(full.text.endsWith(delta.text.slice(firstListed))).toBe(true);
    expect(delta.text.length).toBeLessThan(full.text.length);
  });

  test('the camera stalls: a blocking reload answers 503 after three target durations; the stream resumes', async () => {
    const system = await startSystem(cleanup, {
      broker: 'mosquitto',
      // The agent would restart a silent encoder after STALL_TIMEOUT_MS: not within this test.
      agentEnv: { STALL_TIMEOUT_MS: '30000' },
    });
    await goLive(system);
    // The agent's encoder: ffmpeg on the test source, a child of the agent.
    const encoder = await waitFor('the agent’s encoder', async () => {
      for (const pid of await childProcesses(system.agent!.proc.pid!)) {
        const line = await commandLine(pid);
        if (line?.includes('ffmpeg') && line.includes('lavfi')) return pid;
      }
      return undefined;
    });
    cleanup.add(() => {
      try {
        process.kill(encoder, 'SIGCONT'); // first thing: a stopped process ignores everything else
      } catch {
        // it has gone
      }
    });
    process.kill(encoder, 'SIGSTOP');
    await sleep(300); // what was in flight arrives
    const stalled = await currentPlaylist(system);
    const hint = preloadHint(stalled)!;
    const uri = `${hint.streamId}-${String(hint.msn).padStart(5, '0')}.${hint.part}.m4s`;
    const [reload, part] = await Promise.all([get(system, blocking(hint)), get(system, `/hls/${uri}`)]);
    expect(reload.status).toBe(503);
    expect(JSON.parse(reload.text)).toMatchObject({
      statusCode: 503,
      code: 'WEB_ERR_HLS_BLOCKING_TIMEOUT',
      message: expect.stringContaining(`segment ${hint.msn} part ${hint.part}`),
    });
    expect(reload.ms).toBeGreaterThanOrEqual(2900);
    expect(reload.ms).toBeLessThan(6000);
    expect(part.status).toBe(404); // the hinted part, held as long, was not made
    expect(JSON.parse(part.text)).toMatchObject({ code: 'WEB_ERR_NOT_FOUND' });

    process.kill(encoder, 'SIGCONT');
    const resumed = await get(system, blocking(hint));
    expect(resumed.status).toBe(200);
    expect(judgeLlHlsPlaylist(resumed.text, stalled).violations).toEqual([]);
    expect((await system.api('/api/stream')).body).toMatchObject({
      state: 'live',
      camera: { state: 'streaming' },
    });
  });
});

function listedSecondsOf(segment: MediaPlaylist['segments'][number]): number {
  return segment.uri ? segment.duration : segment.parts.reduce((sum, part) => sum + (part.duration ?? 0), 0);
}
