/**
 * Outside judges of a recording (outputs/recordings/): ffprobe and ffmpeg read its VOD playlist over
 * HTTP from end to end, and its MP4 download is checked for faststart (moov before mdat), its
 * duration, and a decode of every frame that prints no error.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { Recording } from '@camstream/protocol';
import type { Cleanup } from './cleanup.js';
import { tempDir } from './temp-dir.js';
import { ffprobe, ffprobeJson } from './ffprobe.js';
import type { System } from './system.js';

const execFileAsync = promisify(execFile);

export interface Probed {
  /** The container's duration, seconds. */
  readonly duration: number;
  readonly codec: string;
  readonly width: number;
}

/** ffprobe's duration (seconds) and first video stream of a file or URL. */
export async function probe(input: string): Promise<Probed> {
  const parsed = await ffprobeJson<{
    format: { duration: string };
    streams: { codec_name: string; width: number }[];
  }>(input, ['-show_entries', 'format=duration:stream=codec_name,width']);
  const video = parsed.streams.find((stream) => stream.width > 0)!;
  return { duration: Number(parsed.format.duration), codec: video.codec_name, width: video.width };
}

export interface ReadThrough {
  /** Video packets read. */
  readonly packets: number;
  /** Keyframes among them. */
  readonly keyframes: number;
  /** Sum of the packets' durations, seconds: the media read, whatever its timestamps. */
  readonly seconds: number;
  /** What ffprobe printed at `-v error` (nothing, for a clean read). */
  readonly stderr: string;
}

/** Every video packet of `input`, read by ffprobe from the first to the last (no decoding). */
export async function readThrough(input: string): Promise<ReadThrough> {
  const args = ['-select_streams', 'v:0', '-show_entries', 'packet=duration_time,flags'];
  const { json, stderr } = await ffprobe<{ packets?: { duration_time?: string; flags: string }[] }>(
    input,
    args,
    { timeoutMs: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const packets = json.packets ?? [];
  return {
    packets: packets.length,
    keyframes: packets.filter((packet) => packet.flags.startsWith('K')).length,
    seconds: packets.reduce((sum, packet) => sum + (Number(packet.duration_time) || 0), 0),
    stderr,
  };
}

/** What `ffmpeg -v error -i <input> -f null -` prints: nothing when every frame decodes. */
export async function decodeErrors(input: string): Promise<string> {
  const { stderr } = await execFileAsync(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-v', 'error', '-i', input, '-f', 'null', '-'],
    { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return stderr.trim();
}

/** The top-level boxes of an MP4 file, in order. */
export function topLevelBoxes(mp4: Buffer): string[] {
  const types: string[] = [];
  for (let offset = 0; offset + 8 <= mp4.length;) {
    let size = mp4.readUInt32BE(offset);
    if (size === 1) size = Number(mp4.readBigUInt64BE(offset + 8));
    types.push(mp4.toString('latin1', offset + 4, offset + 8));
    if (size < 8) break;
    offset += size;
  }
  return types;
}

/** GET /api/recordings (with `query`, e.g. `?camera=cam1`). */
export async function listRecordings(system: System, query = ''): Promise<Recording[]> {
  const { status, body } = await system.api(`/api/recordings${query}`);
  expect(status).toBe(200);
  return (body as { recordings: Recording[] }).recordings;
}

/**
 * Downloads a recording's MP4 and judges it: one file, moov before mdat (faststart), H.264 at
 * `width`, and every frame decodes with nothing printed at `-v error`. Returns ffprobe's view of it.
 */
export async function expectPlayableMp4(
  system: System,
  recording: Recording,
  cleanup: Pick<Cleanup, 'add'>,
  { width = 640 }: { width?: number } = {},
): Promise<Probed & { bytes: number }> {
  const response = await fetch(`${system.baseUrl}${recording.mp4Url}`);
  expect(
    response.status,
    await response
      .clone()
      .text()
      .catch(() => ''),
  ).toBe(200);
  expect(response.headers.get('content-type')).toBe('video/mp4');
  expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${recording.id}.mp4"`);
  const mp4 = Buffer.from(await response.arrayBuffer());
  const boxes = topLevelBoxes(mp4);
  expect(
    boxes.filter((box) => box === 'moov'),
    `top-level boxes: ${boxes.join(' ')}`,
  ).toHaveLength(1);
  expect(boxes.indexOf('moov'), `faststart: ${boxes.join(' ')}`).toBeLessThan(boxes.indexOf('mdat'));
  const dir = await tempDir(cleanup, 'camstream-rec-mp4-');
  const file = join(dir, 'download.mp4');
  await writeFile(file, mp4);
  const probed = await probe(file);
  expect(probed).toMatchObject({ codec: 'h264', width });
  expect(await decodeErrors(file), 'ffmpeg -v error decoding the MP4').toBe('');
  return { ...probed, bytes: mp4.length };
}
