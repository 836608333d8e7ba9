/**
 * The benchmark's instrument works: `npm run bench` with a tiny window (2 cold starts watched 3 s
 * after their first frame, 5 s per system, a late joiner 2 s after the first frame) measures ours
 * (LL-HLS, the service's default: playlist and segments over HTTP, the packager's /metrics), ours fed
 * by a camera that is not ours, and the peer (nginx-rtmp, fed by that camera too), both viewers and
 * every cold start's frames for the "settled" figure, and writes its report. No timing assertions:
 * speed is the report's business, not a test's.
 */
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { tempDir, useCleanup } from './helpers/cleanup.js';
import { ROOT } from './helpers/system.js';
import { CHROMIUM_PATH, haveTools } from './helpers/tools.js';

const ready = haveTools(
  'ffmpeg',
  CHROMIUM_PATH,
  '/usr/sbin/nginx',
  '/usr/lib/nginx/modules/ngx_rtmp_module.so',
  '/usr/bin/janus',
);

interface WebrtcSamples {
  joins: { toFirstFrame: number; toAnswer: number; fromBegin: number }[];
  steady: { samples: { at: number; latencyMs: number }[]; unreadFrames: number };
  resources: Record<string, { cpuPercent: number[] }>;
  load?: {
    viewers: number;
    framesReceived: number[];
    framesSent?: number[];
    framesExpected: number;
    serviceCpuIdle: number;
    serviceCpuLoaded: number;
  };
}

interface Samples {
  webrtc: Record<'ours-webrtc' | 'ours-webrtc-foreign' | 'janus', WebrtcSamples>;
  runs: Record<
    'ours' | 'ours-foreign' | 'peer',
    {
      hlsMode?: 'll' | 'plain';
      camera?: 'agent' | 'foreign';
      coldStarts: {
        toFirstFrame?: number;
        toManifest?: number;
        toFirstPart?: number;
        startAt: number;
        settle?: { until: number; samples: { at: number; latencyMs: number }[] };
      }[];
      steady: {
        samples: { at: number; latencyMs: number }[];
        segments: { capturedAt?: number }[];
        parts?: unknown[];
        mediaEvents?: { type: string }[];
        lateJoiner?: { joinAt: number; firstFrameAt: number; samples: { latencyMs: number }[] };
      };
      resources: Record<string, { cpuPercent: number[]; rssMiB: number[] }>;
      packager?: { bytesHeld?: number }[];
    }
  >;
}

/** The bench CLI as `npm run bench` runs it (tsx), stopped with SIGTERM if the test gives up. */
function runBench(
  args: string[],
  cleanup: ReturnType<typeof useCleanup>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/run.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.add(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM'); // the bench tears down everything it started
    await exited;
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe.runIf(ready)('npm run bench (smoke)', () => {
  const cleanup = useCleanup();

  test(
    'measures the three systems and writes report.md, latency.svg and samples.json',
    { timeout: 420_000 },
    async () => {
      const out = await tempDir(cleanup, 'camstream-bench-smoke-');

      const { code, output } = await runBench(
        [
          '--no-build',
          '--duration',
          '5',
          '--cold-starts',
          '2',
          '--settle-window',
          '3',
          '--late-join',
          '2',
          '--viewers',
          '2',
          '--out',
          out,
        ],
        cleanup,
      );
      expect(code, output).toBe(0);
      for (const system of ['ours', 'ours-foreign', 'peer']) {
        expect(output).toMatch(new RegExp(`${system}: cold start 2/2`));
      }

      const data = JSON.parse(await readFile(join(out, 'samples.json'), 'utf8')) as Samples;
      for (const system of ['ours', 'ours-foreign', 'peer'] as const) {
        const run = data.runs[system];
        expect(run, system).toBeDefined();
        expect(run.steady.samples.length, `${system}: glass-to-glass samples`).toBeGreaterThan(0);
        for (const sample of run.steady.samples) {
          expect(sample.latencyMs, `${system}: a plausible glass-to-glass time`).toBeGreaterThan(0);
          expect(sample.latencyMs).toBeLessThan(10_000);
        }
        expect(run.steady.mediaEvents, `${system}: the video element's events`).toBeDefined();
        const joiner = run.steady.lateJoiner;
        expect(joiner, `${system}: the late joiner`).toBeDefined();
        expect(joiner!.firstFrameAt, `${system}: the late joiner's first frame`).toBeGreaterThan(
          joiner!.joinAt,
        );
        expect(joiner!.samples.length, `${system}: the late joiner's samples`).toBeGreaterThan(0);
        for (const sample of joiner!.samples) {
          expect(
            sample.latencyMs,
            `${system}: a plausible glass-to-glass time (late joiner)`,
          ).toBeGreaterThan(0);
          expect(sample.latencyMs).toBeLessThan(10_000);
        }
        expect(run.coldStarts).toHaveLength(2);
        for (const start of run.coldStarts) {
          expect(start.toFirstFrame, `${system}: start → first frame`).toBeGreaterThan(0);
          // The frames kept for "settled": from the first frame on, to the end of the observation.
          const settle = start.settle;
          expect(settle?.samples.length, `${system}: frames kept for the settled figure`).toBeGreaterThan(0);
          expect(settle!.samples[0]!.at).toBeGreaterThanOrEqual(start.startAt + start.toFirstFrame!);
          // The page's read time is Date.now(); its frames' times come from the frame callbacks'
          // own clock: a few ms apart.
          expect(settle!.until).toBeGreaterThanOrEqual(settle!.samples.at(-1)!.at - 50);
        }
        expect(run.steady.segments.length, `${system}: segments seen`).toBeGreaterThan(0);
        expect(
          Object.values(run.resources).some((r) => r.rssMiB.length > 0),
          `${system}: resources`,
        ).toBe(true);
      }

      expect(data.runs.ours.camera).toBe('agent');
      expect(data.runs['ours-foreign'].camera).toBe('foreign');
      expect(data.runs.peer.camera, 'the peer is fed by the foreign camera by default').toBe('foreign');

      // Ours in LL-HLS: the parts were seen over HTTP, the segments' stamps read, /metrics sampled.
      const ours = data.runs.ours;
      expect(ours.hlsMode).toBe('ll');
      expect(ours.coldStarts[0]!.toFirstPart, 'ours: start → first part listed').toBeGreaterThan(0);
      expect(ours.steady.parts?.length ?? 0, 'ours: parts seen').toBeGreaterThan(0);
      expect(
        ours.steady.segments.some((s) => s.capturedAt !== undefined),
        'ours: a segment stamp read',
      ).toBe(true);
      expect(
        ours.packager?.some((s) => (s.bytesHeld ?? 0) > 0),
        'ours: the packager’s bytes held',
      ).toBe(true);

      const report = await readFile(join(out, 'report.md'), 'utf8');
      expect(report).toMatch(
        /\| figure \| ours \(LL-HLS\) \| ours \(LL-HLS\), foreign camera \| peer \(nginx-rtmp\) \|/,
      );
      expect(report).toMatch(
        /glass-to-glass, viewer there from the start, median \| \d+ ms \| \d+ ms \| \d+ ms \|/,
      );
      expect(report).toMatch(
        /glass-to-glass, viewer who joined a live stream, median \(p95\)( \| \d+ ms \(p95 \d+ ms\)){3} \|/,
      );
      // Settled: a time or "not settled" for each system, and a row per cold start.
      expect(report).toMatch(/\| start → settled: [^|]+( \| (\d+ ms|not settled) \(p95 [^|]+){3}\|/);
      expect(report).toContain('## Settling, each cold start');
      expect(report).toMatch(
        /\| ours \(LL-HLS\), foreign camera 1 \| \d+ ms \| (\d+ ms|not within \d+ ms) \|/,
      );
      expect(report).toContain('## Stalls');
      expect(report).toContain('Where the time goes in LL-HLS');
      expect(report).toContain('Where the time goes in plain HLS');
      expect(report).toContain('The LL-HLS packager: memory and CPU');
      const svg = await readFile(join(out, 'latency.svg'), 'utf8');
      expect(svg).toMatch(/^<svg /);
      expect(svg).toContain('ours (camstream)');
      expect(svg).toContain('foreign camera');
      expect(svg).toContain('peer (nginx-rtmp');
      expect(svg.match(/<polyline /g)?.length ?? 0).toBeGreaterThanOrEqual(6);
      expect(svg).toContain('viewer who joined');

      // WebRTC: ours (our agent and the foreign camera) and Janus fed the same datagrams, in one page.
      for (const system of ['ours-webrtc', 'ours-webrtc-foreign', 'janus'] as const) {
        const run = data.webrtc[system];
        expect(run, system).toBeDefined();
        expect(run.joins, `${system}: a join per cold start`).toHaveLength(2);
        for (const join of run.joins) {
          expect(join.toAnswer, `${system}: request → answer`).toBeGreaterThanOrEqual(0);
          expect(join.toFirstFrame, `${system}: the first frame after the answer`).toBeGreaterThan(
            join.toAnswer,
          );
          expect(join.toFirstFrame, `${system}: request → first frame`).toBeLessThan(30_000);
          // The viewer's first step comes before the request (ours: the page's offer) or is it (Janus).
          expect(join.fromBegin, `${system}: first step → first frame`).toBeGreaterThanOrEqual(
            join.toFirstFrame,
          );
        }
        expect(run.steady.samples.length, `${system}: glass-to-glass samples`).toBeGreaterThan(0);
        expect(run.steady.unreadFrames, `${system}: stamps read`).toBeLessThan(run.steady.samples.length);
        for (const sample of run.steady.samples) {
          expect(sample.latencyMs, `${system}: a plausible glass-to-glass time`).toBeGreaterThan(0);
          expect(sample.latencyMs).toBeLessThan(10_000);
        }
        expect(
          Object.values(run.resources).some((r) => r.cpuPercent.length > 0),
          `${system}: resources`,
        ).toBe(true);
      }
      expect(data.webrtc.janus.resources['Janus (streaming plugin)']?.cpuPercent.length).toBeGreaterThan(0);
      const load = data.webrtc['ours-webrtc'].load;
      expect(load?.viewers).toBe(2);
      expect(load!.framesReceived).toHaveLength(2);
      expect(load!.framesSent).toHaveLength(2);
      load!.framesReceived.forEach((frames, i) => {
        expect(frames, 'frames per viewer').toBeGreaterThan(0);
        // Not more than the camera made in the span of the frames received (their RTP timestamps),
        // plus one GOP (1 s, 30 frames): a joining viewer's catch-up frames are sent on a compressed clock.
        expect(frames, 'frames per viewer').toBeLessThanOrEqual(load!.framesSent![i]! + 30);
        expect(load!.framesSent![i]!, 'the camera’s frames, by the RTP clock').toBeLessThanOrEqual(
          load!.framesExpected + 30,
        );
      });
      expect(Number.isFinite(load!.serviceCpuIdle) && Number.isFinite(load!.serviceCpuLoaded)).toBe(true);
      expect(report).toContain('## WebRTC');
      for (const system of ['ours-webrtc', 'ours-webrtc-foreign', 'janus']) {
        // glass to glass median (p95) | frames | ratio | request → first frame | first step → | ratio | → answer
        expect(report).toMatch(
          new RegExp(
            `\\| \`${system}\` \\| \\d+ ms \\(p95 \\d+ ms\\) \\| \\d+ \\(\\d+ unread\\) \\| \\d+\\.\\d\\d \\| ` +
              `\\d+ ms \\(\\d+ ms\\) over 2 \\| \\d+ ms \\(\\d+ ms\\) \\| \\d+\\.\\d\\d \\| \\d+ ms \\|`,
          ),
        );
      }
      expect(report).toContain('2 viewers of one camera at once');
      expect(report).toMatch(/\| 2 \| \d+–\d+ \| \d+ \| \d+ \| [\d.]+ % → [\d.]+ % \| -?[\d.]+ % \|/);
      const webrtcSvg = await readFile(join(out, 'webrtc.svg'), 'utf8');
      expect(webrtcSvg).toMatch(/^<svg /);
      expect(webrtcSvg.match(/<polyline /g)?.length ?? 0, 'a line per WebRTC system').toBeGreaterThanOrEqual(
        3,
      );
      expect((await stat(join(out, 'webrtc.png'))).size).toBeGreaterThan(0);
    },
  );
});
