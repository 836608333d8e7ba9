/**
 * Many viewers of one camera at once: `count` WHEP viewers made with werift (test/helpers/whep-client.ts,
 * in the bench's own process, which does nothing else meanwhile) connect together and receive for
 * `durationMs`; per viewer, the frames received (complete by the marker bit) and the RTP packets lost
 * (gaps in the sequence numbers). The web service's CPU over the same length of time with no viewer,
 * then with them, gives its CPU per viewer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connected, whepViewer, type WhepViewer } from '../../test/helpers/whep-client.js';
import { procStat } from '../lib/resources.js';
import type { Teardown } from '../lib/teardown.js';
import type { ViewerLoad } from './types.js';

/** % of one core `pid` used over `ms`, from /proc (utime + stime, 100 ticks a second). */
async function cpuOver(pid: number, ms: number): Promise<{ cpu: number; elapsedMs: number }> {
  const before = await procStat(pid);
  const start = performance.now();
  await sleep(ms);
  const after = await procStat(pid);
  const elapsedMs = performance.now() - start;
  if (!before || !after) return { cpu: NaN, elapsedMs };
  return { cpu: ((after.ticks - before.ticks) * 10 * 100) / elapsedMs, elapsedMs };
}

function lost(viewer: WhepViewer, from: number): number {
  // Sequence numbers unwrapped (16 bits), so reordered or repeated packets are not counted as lost.
  const seen = new Set<number>();
  let last: number | undefined;
  let unwrapped = 0;
  for (const { sequenceNumber } of viewer.packets.slice(from)) {
    if (last === undefined) unwrapped = sequenceNumber;
    else {
      let step = sequenceNumber - (unwrapped & 0xffff);
      if (step < -32768) step += 65536;
      if (step > 32768) step -= 65536;
      unwrapped += step;
    }
    last = sequenceNumber;
    seen.add(unwrapped);
  }
  if (seen.size === 0) return 0;
  return Math.max(...seen) - Math.min(...seen) + 1 - seen.size;
}

/**
 * The frames the camera made between a viewer's first and last frame received, from their RTP
 * timestamps (the stream's own 90 kHz clock, one frame every 90 000 / fps): what the viewer should
 * have received if it lost none, even when the camera (a loaded machine) sent fewer than the wall
 * clock says.
 */
function framesSpanned(frames: readonly { rtpTime: number }[], fps: number): number {
  if (frames.length === 0) return 0;
  const span = (frames.at(-1)!.rtpTime - frames[0]!.rtpTime + 0x1_0000_0000) % 0x1_0000_0000;
  return Math.round(span / (90_000 / fps)) + 1;
}

export async function viewerLoad(
  teardown: Teardown,
  whepUrl: string,
  servicePid: number,
  count: number,
  durationMs: number,
  fps: number,
): Promise<ViewerLoad> {
  const idle = await cpuOver(servicePid, durationMs);
  const viewers: { viewer: WhepViewer; location: string }[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const viewer = await whepViewer(teardown);
      const response = await fetch(whepUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: viewer.offer,
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status !== 201)
        throw new Error(
          `viewer ${i + 1}/${count}: WHEP answered ${response.status}: ${await response.text()}`,
        );
      await viewer.accept(await response.text());
      viewers.push({ viewer, location: new URL(response.headers.get('location')!, whepUrl).href });
    }
    await Promise.race([
      Promise.all(viewers.map(({ viewer }) => connected(viewer))),
      sleep(20_000).then(() => {
        throw new Error(`${count} viewers: not all connected within 20 s`);
      }),
    ]);
    // Each viewer starts at the camera's next keyframe: wait until every one has a frame.
    const deadline = Date.now() + 10_000;
    while (viewers.some(({ viewer }) => viewer.frames.length === 0) && Date.now() < deadline) await sleep(50);
    const without = viewers.filter(({ viewer }) => viewer.frames.length === 0).length;
    if (without > 0)
      throw new Error(`${count} viewers: ${without} received no frame within 10 s of connecting`);
    const frames = viewers.map(({ viewer }) => viewer.frames.length);
    const packets = viewers.map(({ viewer }) => viewer.packets.length);
    const loaded = await cpuOver(servicePid, durationMs);
    const received = viewers.map(({ viewer }, i) => viewer.frames.slice(frames[i]!));
    return {
      viewers: count,
      durationMs: loaded.elapsedMs,
      framesExpected: Math.round((loaded.elapsedMs / 1000) * fps),
      framesSent: received.map((list) => framesSpanned(list, fps)),
      framesReceived: received.map((list) => list.length),
      packetsLost: viewers.map(({ viewer }, i) => lost(viewer, packets[i]!)),
      serviceCpuIdle: idle.cpu,
      serviceCpuLoaded: loaded.cpu,
    };
  } finally {
    for (const { viewer, location } of viewers) {
      await fetch(location, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      await viewer.close();
    }
  }
}
