/**
 * The webrtc output and its sessions, with real werift peers on loopback: a viewer joins at the
 * next keyframe with SPS and PPS ahead of it and gets every frame after, 3000 ticks apart; viewers
 * are capped; bad offers are refused and leave nothing open; sessions end on close, when the viewer
 * never connects, and when the stream stops.
 */
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { RTCRtpCodecParameters } from 'werift';
import { beforeAll, describe, expect, test } from 'vitest';
import { Fmp4Reader, type Fragment, type InitSegment } from '../src/ingest/fmp4.js';
import { isServiceError } from '../src/errors.js';
import { WebRtcOutput, type WebRtcOutputOptions } from '../src/outputs/webrtc/output.js';
import { useCleanup } from '../../../test/helpers/cleanup.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { connected, whepViewer, type WhepViewer } from '../../../test/helpers/whep-client.js';
import { encodeFmp4 } from './helpers/fmp4-media.js';
import { silentLogger } from './helpers/logger.js';

const ready = haveTools('ffmpeg');

function output(options: Partial<WebRtcOutputOptions> = {}): WebRtcOutput {
  return new WebRtcOutput({
    cameraId: 'cam1',
    maxViewers: 3,
    peer: { udpPortRange: undefined, interfaceAddress: '127.0.0.1', publicIp: undefined, iceServers: [] },
    logger: silentLogger,
    ...options,
  });
}

/** `count` consecutive UDP ports free on loopback (checked by binding them), from a random base. */
async function freeUdpPorts(count: number): Promise<number> {
  for (;;) {
    const first = 42_000 + Math.floor(Math.random() * 18_000);
    const sockets = Array.from({ length: count }, () => createSocket('udp4'));
    const bound = await Promise.all(
      sockets.map(
        (socket, i) =>
          new Promise<boolean>((resolve) => {
            socket.once('error', () => resolve(false));
            socket.bind(first + i, '127.0.0.1', () => resolve(true));
          }),
      ),
    );
    await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    if (bound.every(Boolean)) return first;
  }
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; statusCode: number }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isServiceError(err)) throw new Error(`expected a service error, got ${String(err)}`);
  return { code: err.code, statusCode: err.statusCode };
}

describe.runIf(ready)('the webrtc output', { timeout: 30_000 }, () => {
  const cleanup = useCleanup();
  let init: InitSegment;
  const fragments: Fragment[] = [];
  beforeAll(async () => {
    // Two GOPs of 15 frames: a viewer that joins mid-GOP waits at most half a second of frames.
    const data = await encodeFmp4({ seconds: 2, fps: 30, gop: 15 });
    new Fmp4Reader({ onInit: (i) => (init = i), onFragment: (f) => fragments.push(f) }).push(data);
  });

  const live = (webrtc: WebRtcOutput) => {
    webrtc.init({ ...init, streamId: 'a', restart: false });
    cleanup.add(() => webrtc.clear());
  };

  async function join(webrtc: WebRtcOutput): Promise<{ viewer: WhepViewer; id: string }> {
    const viewer = await whepViewer(cleanup);
    const { session, answer } = await webrtc.open(viewer.offer);
    expect(answer).toMatch(/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/m);
    await viewer.accept(answer);
    await connected(viewer);
    // The service's side may finish its DTLS handshake a moment after the viewer's.
    await waitFor('the session to connect', () => session.connectionState === 'connected');
    return { viewer, id: session.id };
  }

  test('not streaming (no init yet, or cleared): 409', async () => {
    const webrtc = output();
    const viewer = await whepViewer(cleanup);
    expect(await refusal(webrtc.open(viewer.offer))).toEqual({
      code: 'WEB_ERR_WHEP_NOT_STREAMING',
      statusCode: 409,
    });
    live(webrtc);
    await webrtc.clear();
    expect(await refusal(webrtc.open(viewer.offer))).toMatchObject({ statusCode: 409 });
  });

  test('a viewer joining mid-GOP starts from the last keyframe at once (frames since one tick apart), then every frame 3000 ticks apart', async () => {
    const webrtc = output();
    live(webrtc);
    // Frames 0-4 go before the viewer is there (to nobody); it joins mid-GOP and gets frames 0-5 with
    // frame 5 (the catch-up), not waiting for frame 15.
    for (const fragment of fragments.slice(0, 5)) webrtc.frame(fragment);
    const { viewer } = await join(webrtc);
    // At the camera's pace: a burst of a whole clip would overflow the viewer's socket buffer.
    for (const fragment of fragments.slice(5)) {
      webrtc.frame(fragment);
      await sleep(1000 / 30);
    }
    const expected = fragments.length;
    await waitFor('the frames', () => viewer.frames.length >= expected);
    expect(viewer.frames.length).toBe(expected);
    const [first, ...rest] = viewer.frames;
    expect(first!.types.slice(0, 2)).toEqual([7, 8]);
    expect(first!.keyframe).toBe(true);
    // Frames 30 and 45 are keyframes too: each with its SPS and PPS ahead.
    expect(rest.flatMap((f, i) => (f.keyframe ? [i + 1] : []))).toEqual([15, 30, 45]);
    for (const keyframe of rest.filter((f) => f.keyframe)) expect(keyframe.types.slice(0, 2)).toEqual([7, 8]);
    const times = viewer.frames.map((f) => f.rtpTime);
    expect(times.slice(1).map((t, i) => (t - times[i]! + 2 ** 32) % 2 ** 32)).toEqual(
      rest.map((_, i) => (i < 5 ? 1 : 3000)),
    );
    // One marker per frame, sequence numbers without a hole.
    expect(viewer.packets.filter((p) => p.marker).length).toBe(expected);
    const seq = viewer.packets.map((p) => p.sequenceNumber);
    expect(seq.slice(1).every((s, i) => s === ((seq[i]! + 1) & 0xffff))).toBe(true);
    expect(webrtc.stats()).toMatchObject({
      sessions: 1,
      sessionsTotal: 1,
      packetsSent: viewer.packets.length,
    });
  });

  /**
   * The fragments without frames `from` to `to - 1`, as the live remuxer writes them: it gives a
   * fragment the duration up to the next frame it gets, so the frame before the hole spans it.
   */
  const withHole = (from: number, to: number): Fragment[] => [
    ...fragments.slice(0, from - 1),
    { ...fragments[from - 1]!, duration: fragments[to]!.decodeTime - fragments[from - 1]!.decodeTime },
    ...fragments.slice(to),
  ];

  test('frames missing (a cut shorter than INPUT_SILENCE_MS): no frame that refers to them, the next keyframe resumes', async () => {
    const webrtc = output();
    live(webrtc);
    const { viewer } = await join(webrtc);
    // Frames 18-34 never come (keyframe 30 among them): 35-44 refer to frames the viewer lacks.
    for (const fragment of withHole(18, 35)) {
      webrtc.frame(fragment);
      await sleep(1000 / 30);
    }
    await waitFor('the frames', () => viewer.frames.length >= 18 + 15);
    await sleep(200);
    expect(viewer.frames.length).toBe(18 + 15);
    expect(viewer.frames.flatMap((f, i) => (f.keyframe ? [i] : []))).toEqual([0, 15, 18]);
    const times = viewer.frames.map((f) => f.rtpTime);
    const steps = times.slice(1).map((t, i) => (t - times[i]! + 2 ** 32) % 2 ** 32);
    expect(steps).toEqual(steps.map((_, i) => (i === 17 ? 28 * 3000 : 3000)));
  });

  test('a cut longer than INPUT_SILENCE_MS: the gap comes before the remuxer’s last frames of before it, a keyframe among them; what follows them waits for the next keyframe', async () => {
    const webrtc = output();
    live(webrtc);
    const { viewer } = await join(webrtc);
    const frames = withHole(17, 35);
    const [before, held, after] = [frames.slice(0, 15), frames.slice(15, 17), frames.slice(17)];
    for (const fragment of before) {
      webrtc.frame(fragment);
      await sleep(1000 / 30);
    }
    // The silence is told while ffmpeg still holds frames 15 (a keyframe) and 16 (its demuxer ends a
    // PES when the next one starts, its muxer a fragment when the next frame comes): they come out
    // when the video is back, then frames 35-44, which refer to the lost keyframe 30.
    webrtc.gap({ reason: 'no video for 2000 ms' });
    for (const fragment of [...held, ...after]) {
      webrtc.frame(fragment);
      await sleep(1000 / 30);
    }
    await waitFor('the frames', () => viewer.frames.length >= 17 + 15);
    await sleep(200);
    expect(viewer.frames.length).toBe(17 + 15);
    expect(viewer.frames.flatMap((f, i) => (f.keyframe ? [i] : []))).toEqual([0, 15, 17]);
    const times = viewer.frames.map((f) => f.rtpTime);
    const steps = times.slice(1).map((t, i) => (t - times[i]! + 2 ** 32) % 2 ** 32);
    expect(steps).toEqual(steps.map((_, i) => (i === 16 ? 29 * 3000 : 3000)));
  });

  test('at most maxViewers at once: one more is 503; a closed one frees its place', async () => {
    const webrtc = output({ maxViewers: 2 });
    live(webrtc);
    const a = await join(webrtc);
    await join(webrtc);
    const third = await whepViewer(cleanup);
    expect(await refusal(webrtc.open(third.offer))).toEqual({
      code: 'WEB_ERR_WHEP_MAX_VIEWERS',
      statusCode: 503,
    });
    await webrtc.get(a.id)!.close('test');
    expect(webrtc.get(a.id)).toBeUndefined();
    expect((await webrtc.open(third.offer)).answer).toContain('a=sendonly');
  });

  test('WEBRTC_UDP_PORTS: one port per viewer, offers at once included; none left: 503', async () => {
    const first = await freeUdpPorts(3);
    const webrtc = output({
      maxViewers: 10,
      peer: {
        udpPortRange: { first, last: first + 2 },
        interfaceAddress: '127.0.0.1',
        publicIp: undefined,
        iceServers: [],
      },
    });
    live(webrtc);
    const viewers = await Promise.all([1, 2, 3, 4].map(() => whepViewer(cleanup)));
    const opened = await Promise.all(viewers.slice(0, 3).map((viewer) => webrtc.open(viewer.offer)));
    const ports = opened.map(({ answer }) => Number(/ 127\.0\.0\.1 (\d+) typ host/.exec(answer)![1]));
    expect(ports.sort()).toEqual([first, first + 1, first + 2]);
    expect(await refusal(webrtc.open(viewers[3]!.offer))).toEqual({
      code: 'WEB_ERR_WHEP_NO_PORT',
      statusCode: 503,
    });
    await opened[0]!.session.close('test');
    expect((await webrtc.open(viewers[3]!.offer)).answer).toContain(` 127.0.0.1 ${ports[0]} typ host`);
  });

  test('bad offers: 400, and nothing stays open', async () => {
    const webrtc = output();
    live(webrtc);
    const vp8 = await whepViewer(cleanup, [
      new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90_000 }),
    ]);
    for (const offer of ['hello', '', vp8.offer, vp8.offer.replace('a=recvonly', 'a=sendonly')]) {
      expect(await refusal(webrtc.open(offer))).toEqual({ code: 'WEB_ERR_WHEP_BAD_OFFER', statusCode: 400 });
    }
    expect(webrtc.stats()).toMatchObject({ sessions: 0, sessionsTotal: 0 });
  });

  test('the stream stops: every session ends and the viewer sees its peer close', async () => {
    const webrtc = output();
    live(webrtc);
    const { viewer, id } = await join(webrtc);
    const session = webrtc.get(id)!;
    await webrtc.clear();
    expect(session.endReason).toBe('the camera’s stream stopped');
    expect(webrtc.stats().sessions).toBe(0);
    // Nothing more reaches the viewer.
    const received = viewer.packets.length;
    for (const fragment of fragments) webrtc.frame(fragment);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(viewer.packets.length).toBe(received);
  });

  test('a viewer that never connects is let go after connectMs', async () => {
    const webrtc = output({ timeouts: { connectMs: 300, disconnectedMs: 300, inactiveMs: 1000 } });
    live(webrtc);
    const viewer = await whepViewer(cleanup);
    const { session } = await webrtc.open(viewer.offer); // the answer never reaches it
    await waitFor('the session to end', () => session.endReason);
    expect(session.endReason).toMatch(/never connected/);
    expect(webrtc.stats().sessions).toBe(0);
  });

  test('a viewer that goes away without a word (no RTCP any more) is reaped', async () => {
    const webrtc = output({ timeouts: { connectMs: 5000, disconnectedMs: 1000, inactiveMs: 1500 } });
    live(webrtc);
    const { viewer, id } = await join(webrtc);
    const session = webrtc.get(id)!;
    // Gone without DELETE and without a DTLS close: its socket just stops answering.
    viewer.peer.iceTransports.forEach((t) => void t.connection.close());
    await waitFor('the session to end', () => session.endReason, { timeoutMs: 10_000 });
    expect(webrtc.stats().sessions).toBe(0);
  });
});
