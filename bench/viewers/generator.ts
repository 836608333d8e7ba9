/**
 * A load generator process (forked by load.ts, one per core it may use): hosts simulated viewers
 * (viewer.ts, LL-HLS; polling-viewer.ts, plain HLS) and, between a `mark` and a `collect`, records what they received and what it cost
 * this process (CPU, event-loop delay: a busy generator makes viewers look late, so it says so).
 */
import { setMaxListeners } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PollingViewer } from './polling-viewer.js';
import { now, SimulatedViewer, type ViewerSink } from './viewer.js';

export type ToGenerator =
  | { type: 'add'; playlistUrl: string; count: number; rampMs: number; polling: boolean }
  | { type: 'mark' }
  | { type: 'collect' }
  | { type: 'stop' };

export interface GeneratorWindow {
  viewers: number;
  /** Epoch ms of each arrival, by playlist version (`msn.part` of its last part). */
  playlists: Record<string, number[]>;
  /** Epoch ms of each arrival, by part URI. */
  parts: Record<string, number[]>;
  requests: { playlist: number; part: number; init: number; segment: number };
  bytes: number;
  errors: Record<string, number>;
  /** This process's CPU in the window, % of one core. */
  cpuPercent: number;
  /** Its event loop's delay, p99, ms. */
  loopDelayP99Ms: number;
  startedAt: number;
  endedAt: number;
}

export type FromGenerator =
  { type: 'window'; window: GeneratorWindow } | { type: 'stopped' } | { type: 'ready' };

const send = (message: FromGenerator) => process.send!(message);

const controller = new AbortController();
// Every request of every viewer here listens to it.
setMaxListeners(0, controller.signal);
const running: Promise<void>[] = [];
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

let window = emptyWindow();
let cpuAtMark = process.cpuUsage();

function emptyWindow(): GeneratorWindow {
  return {
    viewers: 0,
    playlists: {},
    parts: {},
    requests: { playlist: 0, part: 0, init: 0, segment: 0 },
    bytes: 0,
    errors: {},
    cpuPercent: 0,
    loopDelayP99Ms: 0,
    startedAt: now(),
    endedAt: 0,
  };
}

const sink: ViewerSink = {
  playlist(version, at) {
    (window.playlists[version] ??= []).push(at);
  },
  part(uri, at) {
    (window.parts[uri] ??= []).push(at);
  },
  request(kind, bytes) {
    window.requests[kind] += 1;
    window.bytes += bytes;
  },
  error(kind) {
    window.errors[kind] = (window.errors[kind] ?? 0) + 1;
  },
};

function add(playlistUrl: string, count: number, rampMs: number, polling: boolean): void {
  const url = new URL(playlistUrl);
  for (let i = 0; i < count; i++) {
    // Spread over the ramp: a crowd arrives over seconds, not in one millisecond.
    setTimeout(
      () => {
        if (controller.signal.aborted) return;
        const Viewer = polling ? PollingViewer : SimulatedViewer;
        running.push(new Viewer(url, sink, controller.signal).run());
      },
      (i * rampMs) / Math.max(1, count),
    );
  }
}

process.on('message', (message: ToGenerator) => {
  switch (message.type) {
    case 'add':
      add(message.playlistUrl, message.count, message.rampMs, message.polling);
      break;
    case 'mark':
      window = emptyWindow();
      cpuAtMark = process.cpuUsage();
      loopDelay.reset();
      break;
    case 'collect': {
      const cpu = process.cpuUsage(cpuAtMark);
      const endedAt = now();
      const seconds = (endedAt - window.startedAt) / 1000;
      window.endedAt = endedAt;
      window.viewers = running.length;
      window.cpuPercent = seconds > 0 ? ((cpu.user + cpu.system) / 1e6 / seconds) * 100 : 0;
      window.loopDelayP99Ms = loopDelay.percentile(99) / 1e6;
      send({ type: 'window', window });
      window = emptyWindow();
      break;
    }
    case 'stop':
      controller.abort();
      void Promise.allSettled(running).then(() => {
        send({ type: 'stopped' });
        process.disconnect();
      });
      break;
  }
});

// The parent gone (killed, crashed): nothing of ours stays behind.
process.on('disconnect', () => {
  controller.abort();
  setTimeout(() => process.exit(0), 1000).unref();
});

send({ type: 'ready' });
