/**
 * The fan-out and its per-output queues. The outputs here are fakes on purpose: a deliberately slow
 * output and one that throws are the faults this guards against, and no real output can be made to
 * misbehave on demand (a full disk, a stuck consumer). The real outputs are tested in their own files.
 */
import { describe, expect, test } from 'vitest';
import { Fanout } from '../src/outputs/fanout.js';
import type { MediaFrame, MediaInit, Output } from '../src/outputs/output.js';
import { silentLogger } from './helpers/logger.js';

const init: MediaInit = { streamId: 'run-1', restart: false, bytes: Buffer.from('init'), timescale: 90_000 };

/** Frame n of a 30 fps stream with a keyframe every `gop` frames. */
function frame(n: number, gop = 30): MediaFrame {
  return {
    bytes: Buffer.from(`frame ${n}`),
    decodeTime: n * 3000,
    duration: 3000,
    keyframe: n % gop === 0,
    sampleCount: 1,
  };
}

/** Records what it gets, as `init`, `gap`, `end` or the frame's number. */
class Recorder implements Output {
  readonly received: string[] = [];
  cleared = 0;
  constructor(readonly name: string) {}
  init(): void {
    this.received.push('init');
  }
  frame(f: MediaFrame): void | Promise<void> {
    this.received.push(String(f.decodeTime / 3000));
  }
  gap(): void {
    this.received.push('gap');
  }
  end(): void {
    this.received.push('end');
  }
  async clear(): Promise<void> {
    this.cleared += 1;
  }
}

/** While `stalled`, busy with every frame until the test lets it go on (a disk that stalls). */
class Slow extends Recorder {
  stalled = true;
  readonly #pending: (() => void)[] = [];
  override frame(f: MediaFrame): void | Promise<void> {
    super.frame(f);
    if (!this.stalled) return;
    return new Promise((resolve) => this.#pending.push(resolve));
  }
  /** Finishes the delivery under way, and each one it lets through, until none is pending. */
  release(): void {
    while (this.#pending.length > 0) this.#pending.shift()!();
  }
}

/** Throws on every frame it gets after the first `ok` (a bug in an output). */
class Throwing extends Recorder {
  constructor(private readonly ok: number) {
    super('throwing');
  }
  override frame(f: MediaFrame): void {
    super.frame(f);
    if (this.received.length > this.ok + 1) throw new Error('boom');
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Fanout', () => {
  test('delivers each frame to every output synchronously while they keep up', () => {
    const a = new Recorder('a');
    const b = new Recorder('b');
    const fanout = new Fanout([a, b], { logger: silentLogger });
    fanout.init(init);
    fanout.frame(frame(0));
    // No await: an output that keeps up has it before frame() returns.
    expect(a.received).toEqual(['init', '0']);
    expect(b.received).toEqual(['init', '0']);
    fanout.gap({ reason: 'silence' });
    fanout.end({ streamId: 'run-1' });
    expect(b.received).toEqual(['init', '0', 'gap', 'end']);
    expect(fanout.stats().map((s) => s.stats.droppedFrames)).toEqual([0, 0]);
  });

  test('a slow output gets nothing in the way of the others; it drops to the next keyframe, counted, with a gap', async () => {
    const slow = new Slow('slow');
    const fast = new Recorder('fast');
    const fanout = new Fanout([slow, fast], { logger: silentLogger, maxFrames: 10 });
    fanout.init(init);
    for (let n = 0; n < 21; n += 1) fanout.frame(frame(n));
    // The fast one has every frame at once; the slow one is still on frame 0. Frame 11 found 10
    // waiting: those are dropped with the frames after them, up to the next keyframe (30).
    expect(fast.received).toEqual(['init', ...Array.from({ length: 21 }, (_, n) => String(n))]);
    expect(slow.received).toEqual(['init', '0']);
    expect(fanout.stats()[0]).toMatchObject({ name: 'slow', stats: { droppedFrames: 20, queuedFrames: 0 } });
    // The disk is back: the slow output resumes at the keyframe, at the live edge, after a gap.
    slow.stalled = false;
    slow.release();
    await flush();
    for (let n = 21; n < 45; n += 1) fanout.frame(frame(n));
    expect(slow.received).toEqual([
      'init',
      '0',
      'gap',
      ...Array.from({ length: 15 }, (_, n) => String(30 + n)),
    ]);
    expect(fanout.stats().map((s) => s.stats.droppedFrames)).toEqual([29, 0]);
    expect(fast.received).toHaveLength(46);
  });

  test('an output that throws is contained: the others go on, and so does it', () => {
    const throwing = new Throwing(2);
    const other = new Recorder('other');
    const fanout = new Fanout([throwing, other], { logger: silentLogger });
    fanout.init(init);
    for (let n = 0; n < 5; n += 1) fanout.frame(frame(n));
    expect(other.received).toEqual(['init', '0', '1', '2', '3', '4']);
    expect(throwing.received).toEqual(['init', '0', '1', '2', '3', '4']);
    expect(fanout.stats()[0]!.stats.errors).toBe(3);
  });

  test('a rejected delivery is contained like a throw; the queue goes on after it', async () => {
    const rejecting = new Recorder('rejecting');
    let calls = 0;
    rejecting.frame = (f) => {
      Recorder.prototype.frame.call(rejecting, f);
      calls += 1;
      return calls === 1 ? Promise.reject(new Error('disk full')) : undefined;
    };
    const fanout = new Fanout([rejecting], { logger: silentLogger });
    fanout.init(init);
    fanout.frame(frame(0));
    fanout.frame(frame(1));
    expect(rejecting.received).toEqual(['init', '0']);
    await flush();
    expect(rejecting.received).toEqual(['init', '0', '1']);
    expect(fanout.stats()[0]!.stats.errors).toBe(1);
  });

  test('clear forgets what waits for a busy output, waits for its delivery, then clears it', async () => {
    const slow = new Slow('slow');
    const fanout = new Fanout([slow], { logger: silentLogger });
    fanout.init(init);
    for (let n = 0; n < 5; n += 1) fanout.frame(frame(n));
    const cleared = fanout.clear();
    await flush();
    expect(slow.cleared).toBe(0); // frame 0 is still being delivered
    slow.release();
    await cleared;
    expect(slow.cleared).toBe(1);
    expect(slow.received).toEqual(['init', '0']);
    // And it takes the next stream straight away.
    fanout.init(init);
    expect(slow.received).toEqual(['init', '0', 'init']);
  });
});
