/**
 * A werift viewer's WHEP session with the service (test/helpers/whep-client.ts makes the viewer):
 * its offer POSTed, the service's sessions gauge, and what the frames it received must show.
 */
import { expect } from 'vitest';
import type { Cleanup } from './cleanup.js';
import type { System } from './system.js';
import { whepViewer, type ReceivedFrame, type WhepViewer } from './whep-client.js';

/** A POST of an SDP offer (or of anything, as one). */
export const sdp = (body: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/sdp' },
  body,
});

/** camstream_webrtc_sessions of cam1 in /metrics (NaN when the line is missing). */
export async function sessionsGauge(system: System): Promise<number> {
  const text = (await system.api('/metrics')).body as string;
  return Number(/^camstream_webrtc_sessions\{camera="cam1"\} (\d+)$/m.exec(text)?.[1]);
}

/** A werift viewer of cam1: its offer POSTed (201), the answer accepted; the session's Location. */
export async function watchCam1(
  system: System,
  cleanup: Cleanup,
): Promise<{ viewer: WhepViewer; location: string }> {
  const viewer = await whepViewer(cleanup);
  const response = await fetch(`${system.baseUrl}/api/cameras/cam1/whep`, sdp(viewer.offer));
  expect(response.status).toBe(201);
  await viewer.accept(await response.text());
  return { viewer, location: response.headers.get('location')! };
}

/** RTP time only goes forward (modulo 2^32), frame after frame: no jump back a decoder would choke on. */
export function expectForward(frames: readonly ReceivedFrame[]): void {
  for (let i = 1; i < frames.length; i += 1) {
    const step = (frames[i]!.rtpTime - frames[i - 1]!.rtpTime + 2 ** 32) % 2 ** 32;
    const near = frames.slice(Math.max(0, i - 3), i + 2).map((f) => `${f.rtpTime}:${f.types.join('.')}`);
    expect(step, `frame ${i} of ${frames.length}: ${near.join(' ')}`).toBeGreaterThan(0);
    expect(step, `frame ${i} of ${frames.length}: ${near.join(' ')}`).toBeLessThan(2 ** 31);
  }
}
