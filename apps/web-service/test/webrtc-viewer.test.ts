/**
 * One viewer's RTP stream (outputs/webrtc/viewer.ts): it starts at a keyframe, numbers its own
 * packets, and a viewer whose sends do not complete falls back to the next keyframe instead of
 * piling up; another viewer of the same frames is not affected.
 */
import { describe, expect, test } from 'vitest';
import {
  MAX_PACKETS_IN_FLIGHT,
  Viewer,
  type RtpFields,
  type RtpFrame,
} from '../src/outputs/webrtc/viewer.js';

const payload = Buffer.from([0x65, 1, 2]);
const frame = (n: number, keyframe: boolean, packets = 10): RtpFrame => ({
  rtpTime: n * 3000,
  keyframe,
  payloads: Array.from({ length: packets }, (_, i) => ({ payload, marker: i === packets - 1 })),
});

describe('a viewer', () => {
  test('starts at a keyframe; its sequence numbers run on by one, its timestamps keep the frames’ spacing', () => {
    const sent: RtpFields[] = [];
    const viewer = new Viewer(
      (fields) => void sent.push(fields),
      () => {},
    );
    viewer.send(frame(0, false));
    expect(sent).toEqual([]);
    viewer.send(frame(1, true, 3));
    viewer.send(frame(2, false, 2));
    expect(sent.length).toBe(5);
    expect(sent.slice(1).every((f, i) => f.sequenceNumber === ((sent[i]!.sequenceNumber + 1) & 0xffff))).toBe(
      true,
    );
    expect(sent.map((f) => f.marker)).toEqual([false, false, true, false, true]);
    expect((sent[3]!.timestamp - sent[0]!.timestamp + 2 ** 32) % 2 ** 32).toBe(3000);
    expect(viewer.stats()).toEqual({ packetsSent: 5, bytesSent: 15, framesSent: 2, framesDropped: 0 });
  });

  test('two viewers of the same frames: fields of their own, offsets of their own', () => {
    const a: RtpFields[] = [];
    const b: RtpFields[] = [];
    const one = new Viewer(
      (fields) => void a.push(fields),
      () => {},
    );
    const two = new Viewer(
      (fields) => void b.push(fields),
      () => {},
    );
    for (const viewer of [one, two]) viewer.send(frame(1, true, 2));
    expect(a[0]).not.toBe(b[0]);
    // Random starts (RFC 3550 5.1): equal by chance once in 2^48.
    expect([a[0]!.sequenceNumber, a[0]!.timestamp]).not.toEqual([b[0]!.sequenceNumber, b[0]!.timestamp]);
  });

  test('sends that never complete: it skips to the next keyframe, and the other viewer gets everything', () => {
    const stuck = new Viewer(
      () => new Promise<void>(() => {}),
      () => {},
    );
    let fine = 0;
    const healthy = new Viewer(
      () => void (fine += 1),
      () => {},
    );
    const frames = 1 + Math.ceil(MAX_PACKETS_IN_FLIGHT / 10) + 5;
    for (let n = 0; n < frames; n += 1) {
      const f = frame(n, n === 0);
      stuck.send(f);
      healthy.send(f);
    }
    expect(fine).toBe(frames * 10);
    const { framesSent, framesDropped } = stuck.stats();
    expect(framesSent).toBe(Math.ceil((MAX_PACKETS_IN_FLIGHT + 1) / 10));
    expect(framesDropped).toBe(frames - framesSent);
    // Not even a keyframe while its sends are stuck.
    stuck.send(frame(frames, true));
    expect(stuck.stats()).toMatchObject({ framesSent, framesDropped: framesDropped + 1 });
  });

  test('once its sends complete, it resumes at the next keyframe', async () => {
    const pending: (() => void)[] = [];
    const viewer = new Viewer(
      () => new Promise<void>((resolve) => pending.push(resolve)),
      () => {},
    );
    let n = 0;
    while (viewer.stats().framesDropped === 0) viewer.send(frame(n++, n === 1));
    const sent = viewer.stats().framesSent;
    for (const resolve of pending.splice(0)) resolve();
    await new Promise((resolve) => setImmediate(resolve));
    viewer.send(frame(n++, false));
    expect(viewer.stats().framesSent).toBe(sent);
    viewer.send(frame(n, true));
    expect(viewer.stats().framesSent).toBe(sent + 1);
  });

  test('a send that throws or rejects is reported, and the viewer goes on', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const viewer = new Viewer(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return Promise.reject(new Error('later'));
      },
      (err) => errors.push(err),
    );
    viewer.send(frame(0, true, 2));
    viewer.send(frame(1, false, 1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'later', 'later']);
    expect(viewer.stats().framesSent).toBe(2);
  });
});
