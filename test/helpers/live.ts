/**
 * Is the stream still what it was? The same processes, the service live and the camera streaming,
 * the playlist moving on, and an independent player (ffmpeg) decoding it.
 */
import { expect } from 'vitest';
import { newestPart, parseWithComplaints } from './ll-hls.js';
import { decodeHls } from './player.js';
import type { System } from './system.js';
import { waitFor } from './wait.js';

export interface Processes {
  readonly web: number;
  readonly agent: number;
  readonly segmenters: readonly number[];
}

export async function processesOf(system: System): Promise<Processes> {
  return {
    web: system.web.proc.pid!,
    agent: system.agent!.proc.pid!,
    segmenters: await system.segmenterPids(),
  };
}

/** The same web service and agent processes, neither exited (no crash, no restart). */
export function expectSameProcesses(system: System, before: Processes): void {
  expect(system.web.proc.pid).toBe(before.web);
  expect(system.web.proc.exitCode, system.web.output().slice(-3000)).toBeNull();
  expect(system.agent?.proc.pid).toBe(before.agent);
  expect(system.agent?.proc.exitCode, system.agent?.output().slice(-3000)).toBeNull();
}

/** How far the playlist has got: the newest part (LL-HLS) or the newest segment (plain HLS). */
export function playlistPosition(text: string): number {
  const { playlist } = parseWithComplaints(text);
  const part = newestPart(playlist);
  if (part) return part.msn * 1000 + part.part;
  const last = playlist.segments.at(-1);
  return last ? last.mediaSequenceNumber * 1000 : -1;
}

async function position(system: System): Promise<number> {
  const response = await fetch(`${system.baseUrl}/hls/stream.m3u8`);
  expect(response.status).toBe(200);
  return playlistPosition(await response.text());
}

/**
 * The service says live and the camera streaming; the playlist lists new parts (or segments) within
 * a few seconds; ffmpeg decodes `seconds` of it at close to 30 fps.
 */
export async function expectStreamPlays(system: System, { seconds = 2.5 } = {}): Promise<void> {
  const { body } = await system.api('/api/stream');
  expect(body).toMatchObject({ state: 'live', camera: { state: 'streaming' } });
  const from = await position(system);
  await waitFor('the playlist to list something new', async () => (await position(system)) > from, {
    timeoutMs: 5000,
  });
  const decoded = await decodeHls(`${system.baseUrl}/hls/stream.m3u8`, seconds);
  expect(decoded.seconds).toBeGreaterThanOrEqual(seconds * 0.8);
  // Close to 30 fps over what was decoded (a loaded machine may decode a little less than asked).
  expect(decoded.frames).toBeGreaterThanOrEqual(decoded.seconds * 30 * 0.8);
}
