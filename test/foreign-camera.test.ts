/**
 * A camera that is not ours (test/helpers/foreign-camera.ts: plain ffmpeg, a keyframe a second and
 * no early one, ffmpeg's own mpegts muxer) against a real Mosquitto: first the stand-in itself keeps
 * to the wire contract and sends what such cameras send; then the web service, with no agent of
 * ours, plays it in LL-HLS at 30, 25 and 29.97 fps, judged by hls-parser and the spec's part rules
 * (test/helpers/ll-hls.ts) and decoded by ffmpeg over HTTP.
 */
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cameraTopics, parseCameraStatus, parseCommandEvent } from '@camstream/protocol';
import { describe, expect, test } from 'vitest';
import { tempDir, useCleanup } from './helpers/cleanup.js';
import { ffprobeJson } from './helpers/ffprobe.js';
import { ForeignCamera, foreignEncoderArgs, type FrameRate } from './helpers/foreign-camera.js';
import { completeSegments, judgeLlHlsPlaylist, type MediaPlaylist } from './helpers/ll-hls.js';
import { startMosquitto } from './helpers/mosquitto.js';
import { mqttProbe } from './helpers/mqtt-client.js';
import { expectPlayableByFfmpeg } from './helpers/player.js';
import { freeUdpPort } from './helpers/ports.js';
import { processesMatching } from './helpers/processes.js';
import { json, startSystem } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg', 'ffprobe', 'mosquitto');

describe('the foreign camera’s encoder command', () => {
  test('a keyframe every GOP and none forced early; ffmpeg’s mpegts muxer with its defaults', () => {
    const args = foreignEncoderArgs({}, 'udp://127.0.0.1:5000');
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args).not.toContain('-force_key_frames');
    expect(args).not.toContain('-flush_packets');
    expect(args).not.toContain('-muxdelay');
    expect(args).not.toContain('-muxpreload');
    expect([after('-g'), after('-keyint_min'), after('-sc_threshold')]).toEqual(['30', '30', '0']);
    expect([after('-c:v'), after('-preset'), after('-tune'), after('-profile:v')]).toEqual([
      'libx264',
      'ultrafast',
      'zerolatency',
      'baseline',
    ]);
    expect(after('-f')).toBe('lavfi');
    expect(args.at(-1)).toBe('udp://127.0.0.1:5000?pkt_size=1316');
    expect(args.at(-2)).toBe('mpegts');
    expect(after('-i')).toMatch(/^testsrc2=size=640x480:rate=30,.*setpts=floor\(RTCTIME/);
  });

  test.each<[FrameRate, string, string]>([
    [25, 'rate=25,', '25'],
    ['30000/1001', 'rate=30000/1001,', '30'],
  ])('at %s fps: the rate as given, a GOP of one second in whole frames', (fps, rate, gop) => {
    const args = foreignEncoderArgs({ fps, gopSeconds: 1 }, 'udp://127.0.0.1:5000');
    expect(args[args.indexOf('-i') + 1]).toContain(rate);
    expect(args[args.indexOf('-g') + 1]).toBe(gop);
  });

  test('without the stamp, the plain test pattern', () => {
    const args = foreignEncoderArgs({ stamp: false, width: 320, height: 240 }, 'udp://127.0.0.1:5000');
    expect(args[args.indexOf('-i') + 1]).toBe('testsrc2=size=320x240:rate=30');
  });
});

/** Keyframe times (s) and the packet count of an MPEG-TS file, by ffprobe. */
async function keyframes(
  file: string,
): Promise<{ keyframes: number[]; packets: number; firstPts: number; codec: string }> {
  const parsed = await ffprobeJson<{
    streams: { codec_name: string }[];
    packets: { pts_time: string; flags: string }[];
  }>(file, ['-select_streams', 'v:0', '-show_entries', 'stream=codec_name:packet=pts_time,flags']);
  return {
    codec: parsed.streams[0]!.codec_name,
    packets: parsed.packets.length,
    firstPts: Math.min(...parsed.packets.map((p) => Number(p.pts_time))),
    keyframes: parsed.packets.filter((p) => p.flags.startsWith('K')).map((p) => Number(p.pts_time)),
  };
}

describe.runIf(ready)('the foreign camera (test helper) on a real broker', () => {
  const cleanup = useCleanup();

  test('keeps to the contract and sends H.264 with a keyframe a second and no early one', async () => {
    const broker = await startMosquitto();
    cleanup.add(() => broker.stop());
    const dir = await tempDir(cleanup, 'camstream-foreign-');
    const port = await freeUdpPort();
    const socket = createSocket('udp4');
    const datagrams: Buffer[] = [];
    socket.on('message', (datagram) => datagrams.push(datagram));
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    cleanup.add(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    const topics = cameraTopics('foreign1');
    const probe = await mqttProbe(cleanup, broker.url, 'cameras/foreign1/#');

    const camera = await ForeignCamera.connect({
      mqttUrl: broker.url,
      cameraId: 'foreign1',
      target: 'udp://127.0.0.1:1',
    });
    cleanup.add(() => camera.close());
    const statusOf = (state: string) => (m: { topic: string; payload: Buffer; retain: boolean }) =>
      m.topic === topics.status && JSON.parse(m.payload.toString()).state === state;
    await probe.next(statusOf('idle'));

    // Start to our socket, sent twice with one id: applied and answered once.
    const start = JSON.stringify({ id: 'start-1', action: 'start', target: `udp://127.0.0.1:${port}` });
    await probe.publish(topics.control, start);
    await probe.publish(topics.control, start);
    const streaming = await probe.next(statusOf('streaming'), { timeoutMs: 15_000 });
    expect(parseCameraStatus(streaming.payload)).toMatchObject({
      ok: true,
      value: { state: 'streaming', target: `udp://127.0.0.1:${port}` },
    });
    const reply = await probe.next((m) => m.topic === topics.events);
    expect(parseCommandEvent(reply.payload)).toMatchObject({
      ok: true,
      value: { commandId: 'start-1', ok: true },
    });
    expect(camera.encoderPid).toBeGreaterThan(0);
    const encoderPid = camera.encoderPid!;

    await sleep(3500);
    const stop = JSON.stringify({ id: 'stop-1', action: 'stop' });
    await probe.publish(topics.control, stop);
    await probe.next(statusOf('idle'), { from: probe.messages.indexOf(streaming) });
    await probe.next((m) => m.topic === topics.events && m.payload.toString().includes('stop-1'));
    expect(await processesMatching(`udp://127.0.0.1:${port}?pkt_size=1316`)).toEqual([]);
    await sleep(300); // a duplicate's reply, if there were one, would be here by now
    const events = probe.messages.filter((m) => m.topic === topics.events);
    expect(events.map((m) => JSON.parse(m.payload.toString()).commandId)).toEqual(['start-1', 'stop-1']);

    // Datagrams of whole TS packets, at most 1316 bytes; H.264 with a keyframe first, then one a second.
    expect(datagrams.length).toBeGreaterThan(100);
    for (const datagram of datagrams) {
      expect(datagram.length % 188).toBe(0);
      expect(datagram.length).toBeLessThanOrEqual(1316);
    }
    const file = join(dir, 'capture.ts');
    await writeFile(file, Buffer.concat(datagrams));
    const seen = await keyframes(file);
    expect(seen.codec).toBe('h264');
    expect(seen.packets).toBeGreaterThanOrEqual(90);
    expect(seen.keyframes.length).toBeGreaterThanOrEqual(3);
    expect(seen.keyframes[0], 'the stream begins with a keyframe').toBe(seen.firstPts);
    const gaps = seen.keyframes.slice(1).map((t, i) => t - seen.keyframes[i]!);
    for (const gap of gaps) expect(gap).toBeCloseTo(1, 2);

    // close(): no encoder left, `offline` retained.
    await camera.close();
    expect(existsSync(`/proc/${encoderPid}`)).toBe(false);
    const late = await mqttProbe(cleanup, broker.url, topics.status);
    const retained = await late.next(() => true);
    expect(retained.retain).toBe(true);
    expect(JSON.parse(retained.payload.toString())).toMatchObject({ state: 'offline' });
  });
});

/** The playlist, judged reload after reload for `ms`. */
async function judgeFor(url: string, ms: number): Promise<MediaPlaylist> {
  let previous: MediaPlaylist | undefined;
  const until = Date.now() + ms;
  const violations = new Set<string>();
  while (Date.now() < until) {
    const text = await (await fetch(url)).text();
    const judgement = judgeLlHlsPlaylist(text, previous);
    for (const violation of judgement.violations) violations.add(violation);
    previous = judgement.playlist ?? previous;
    await sleep(200);
  }
  expect([...violations]).toEqual([]);
  return previous!;
}

describe.runIf(ready)('the web service plays a camera that is not ours', () => {
  const cleanup = useCleanup();

  test.each<[string, FrameRate]>([
    ['30 fps', 30],
    ['25 fps', 25],
    ['29.97 fps', '30000/1001'],
  ])('at %s: start → live, a valid LL-HLS playlist, ffmpeg decodes it over HTTP', async (_, fps) => {
    const system = await startSystem(cleanup, { broker: 'mosquitto', agent: false });
    const camera = await ForeignCamera.connect({
      mqttUrl: system.mqttUrl,
      target: `udp://127.0.0.1:${system.udpPort}`,
      fps,
    });
    cleanup.add(() => camera.close());
    await waitFor('the service to see the camera idle', async () => {
      const { body } = await system.api('/api/stream');
      return (body as { camera?: { state?: string } | null }).camera?.state === 'idle';
    });

    const started = await system.api('/api/stream/start', json());
    expect(started, camera.encoderLog()).toMatchObject({ status: 200, body: { state: 'live' } });
    const url = `${system.baseUrl}/hls/stream.m3u8`;
    const playlist = await judgeFor(url, 4000);
    expect(completeSegments(playlist).length).toBeGreaterThanOrEqual(2);
    // One keyframe a second: a segment of a part each until the second keyframe (a quick start),
    // then a GOP each, starting INDEPENDENT.
    const segments = completeSegments(playlist);
    const gops = segments.filter((segment) => segment.duration > 0.25);
    expect(gops.length).toBeGreaterThanOrEqual(2);
    for (const segment of gops) {
      expect(segment.duration).toBeGreaterThan(0.95);
      expect(segment.duration).toBeLessThan(1.05);
    }
    // Before them only one-part segments (at most PART-TARGET each).
    const quick = segments.slice(0, segments.indexOf(gops[0]!));
    for (const segment of quick) expect(segment.duration).toBeLessThanOrEqual(playlist.partTargetDuration!);
    await expectPlayableByFfmpeg(url, { seconds: 3, minSeconds: 2.9, minFrames: 3 * 25 * 0.9 });

    expect(await system.api('/api/stream/stop', json())).toMatchObject({ status: 200 });
    await waitFor('the camera to stop', () => camera.state === 'idle' && camera.encoderPid === undefined);
  });
});
