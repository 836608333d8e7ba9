/**
 * The capture-time stamp survives the real encoder: the test source through the Pipeline at 1 and
 * 2 Mbps, captured at a UDP listener, decoded by the real ffmpeg to grey frames, and every frame's
 * stamp read back with the same readStamp the web client uses.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readStamp, stampToEpochMs } from '@camstream/protocol';
import { describe, expect, test } from 'vitest';
import { tempDir, useCleanup } from '../../../test/helpers/cleanup.js';
import { ffprobeJson } from '../../../test/helpers/ffprobe.js';
import { haveTools } from '../../../test/helpers/tools.js';
import { loadAgentConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Pipeline } from '../src/pipeline.js';
import { buildEncoderCommand } from '../src/sources/index.js';
import { probeSourceEnvironment } from '../src/sources/probe.js';
import { listenUdp } from './helpers/udp.js';

const execFileAsync = promisify(execFile);
const ready = haveTools('ffmpeg', 'ffprobe');

/** Byte offset of each video packet (frame) in an MPEG-TS file, in decode order. */
async function packetPositions(file: string): Promise<number[]> {
  const args = ['-select_streams', 'v:0', '-show_entries', 'packet=pos'];
  const { packets } = await ffprobeJson<{ packets: { pos: string }[] }>(file, args);
  return packets.map((packet) => parseInt(packet.pos, 10));
}

/** Every frame of the file as 8-bit luma, in presentation order (= decode order: no B-frames). */
async function decodeGrey(file: string, width: number, height: number): Promise<Buffer[]> {
  // prettier-ignore
  const { stdout } = await execFileAsync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-i', file,
    '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', '-',
  ], { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 });
  const size = width * height;
  expect(stdout.length % size).toBe(0);
  return Array.from({ length: stdout.length / size }, (_, i) => stdout.subarray(i * size, (i + 1) * size));
}

describe.runIf(ready)('the test source stamps every frame with its capture time', () => {
  const cleanup = useCleanup();

  test.each([1_000_000, 2_000_000])(
    '%i bps: every frame decodes and its stamp reads exactly',
    async (bitrate) => {
      const config = loadAgentConfig({ VIDEO_BITRATE: String(bitrate) });
      const { width, height, fps } = config.video;
      const environment = await probeSourceEnvironment(config, silentLogger);
      const listener = await listenUdp(cleanup);
      const pipeline = new Pipeline({
        buildCommand: (port) => buildEncoderCommand(config, environment, port),
        target: { host: '127.0.0.1', port: listener.port },
        logger: silentLogger,
        stallTimeoutMs: 5000,
      });
      cleanup.add(() => pipeline.close());
      await pipeline.start();
      await listener.waitForMore(500); // a few seconds of stream
      await pipeline.close();

      const dir = await tempDir(cleanup, 'camstream-stamp-');
      const file = join(dir, 'capture.ts');
      await writeFile(file, Buffer.concat(listener.datagrams));

      const positions = await packetPositions(file);
      const frames = await decodeGrey(file, width, height);
      expect(frames.length).toBeGreaterThan(2 * fps);
      expect(frames.length).toBe(positions.length); // every frame sent decodes

      const stamps = frames.map((luma) => readStamp((x, y) => luma[y * width + x]!, width, height));
      expect(stamps.filter((s) => s === undefined)).toHaveLength(0);
      const times = stamps.map((s) => stampToEpochMs(s!, Date.now()));
      for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]!);
      // -re keeps the source on schedule: on average one frame interval between stamps.
      const meanStep = (times.at(-1)! - times[0]!) / (times.length - 1);
      expect(meanStep).toBeGreaterThan(1000 / fps - 3);
      expect(meanStep).toBeLessThan(1000 / fps + 3);

      // A stamp is taken before its frame is sent: never later than the arrival of the frame's first
      // datagram (the one holding the frame's first byte).
      const starts: number[] = [];
      let offset = 0;
      for (const datagram of listener.datagrams) {
        starts.push(offset);
        offset += datagram.length;
      }
      positions.forEach((pos, i) => {
        const datagram = starts.findLastIndex((start) => start <= pos);
        expect(times[i]).toBeLessThanOrEqual(listener.arrivals[datagram]!);
      });
    },
  );
});
