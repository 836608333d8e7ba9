/**
 * `npx tsx bench/viewers/held.ts [viewers] [cycles] [service dir]`: what one held LL-HLS request costs
 * the service's JS thread, in CPU time, which a shared machine's other load does not change much
 * (wall-clock lateness it does). The built service (`<service dir>/dist`, default apps/web-service)
 * with its whole request path (hooks, door, headers), its camera's packager swapped for one fed from
 * memory on a media clock (no ffmpeg, no ingest). Per cycle: every viewer holds a blocking reload for
 * the next part and the preload-hinted part on its two keep-alive connections (held-client.ts, raw
 * sockets in a child process); then frames are pushed until the part is made. Reported: the
 * service's CPU from the part until all 2N answers arrived, per answer, and for the whole cycle (the
 * requests taken in, held and answered), per request. Medians over the cycles after five warm-up ones.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEGMENTER_MOVFLAGS, splitFmp4 } from '../../apps/web-service/test/helpers/fmp4-media.js';
import type * as AppModule from '../../apps/web-service/src/app.js';
import type * as ConfigModule from '../../apps/web-service/src/config.js';
import type * as ReaderModule from '../../apps/web-service/src/ingest/media-reader.js';
import type * as OutputModule from '../../apps/web-service/src/outputs/ll-hls/output.js';
import type * as PackagerModule from '../../apps/web-service/src/outputs/ll-hls/packager.js';
import type * as NamesModule from '../../apps/web-service/src/outputs/names.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLIENT = fileURLToPath(new URL('./held-client.ts', import.meta.url));
const WARM_UP = 5;

const viewers = Number(process.argv[2] ?? 500);
const cycles = Number(process.argv[3] ?? 30) + WARM_UP;
const serviceDir = resolve(process.argv[4] ?? join(ROOT, 'apps', 'web-service'));
const dist = (path: string) => import(join(serviceDir, 'dist', path));
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const { buildApp } = (await dist('app.js')) as typeof AppModule;
const { loadServiceConfig } = (await dist('config.js')) as typeof ConfigModule;
const { MediaReader } = (await dist('ingest/media-reader.js')) as typeof ReaderModule;
const { LlHlsOutput } = (await dist('outputs/ll-hls/output.js')) as typeof OutputModule;
const { LlHlsPackager } = (await dist('outputs/ll-hls/packager.js')) as typeof PackagerModule;
const { newStreamId } = (await dist('outputs/names.js')) as typeof NamesModule;

// The bench's camera: 640x480 @ 30 fps, 2 Mbps, a keyframe a second; 30 s is plenty.
const media = execFileSync(
  'ffmpeg',
  [
    ...[
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=640x480:rate=30',
    ],
    ...['-frames:v', '900', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
    ...['-pix_fmt', 'yuv420p', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0'],
    ...[
      '-b:v',
      '2M',
      '-maxrate',
      '2M',
      '-bufsize',
      '1M',
      '-f',
      'mp4',
      '-movflags',
      SEGMENTER_MOVFLAGS,
      'pipe:1',
    ],
  ],
  { maxBuffer: 1 << 30 },
);
const { init, fragments } = splitFmp4(media);

const hlsDir = mkdtempSync(join(tmpdir(), 'camstream-held-'));
const config = loadServiceConfig({
  HLS_MODE: 'll',
  PORT: '0',
  EMBEDDED_BROKER_PORT: '0',
  HLS_DIR: hlsDir,
  LOG_LEVEL: 'warn',
});
const app = buildApp(config);
const client = { child: undefined as ReturnType<typeof fork> | undefined };
try {
  await app.listen({ host: '127.0.0.1', port: 0 });
  let clock = Date.now();
  const packager = new LlHlsPackager({
    targetDuration: config.hlsSegmentSeconds,
    listSize: config.hlsListSize,
    logger: app.log,
    now: () => clock,
  });
  // The route reads `camera.packager` on every request: this one runs on the media's clock.
  Object.defineProperty(app.camstream.cameras.default, 'packager', { value: packager });
  const reader = new MediaReader({
    streamId: newStreamId(),
    restart: false,
    sink: new LlHlsOutput(packager),
  });
  reader.push(init);
  let next = 0;
  const push = () => {
    if (next === fragments.length) throw new Error('out of frames: fewer cycles');
    reader.push(fragments[next++]!);
    clock += 1000 / 30;
  };
  while (packager.stats().partsMade < 12) push();

  const port = (app.server.address() as AddressInfo).port;
  const child = fork(CLIENT, [String(port), String(viewers)], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  client.child = child;
  const message = () =>
    new Promise<{ type: string; notOk?: number }>((done) => child.once('message', (m) => done(m as never)));
  await message();

  const perAnswer: number[] = [];
  const perRequest: number[] = [];
  let notOk = 0;
  for (let cycle = 0; cycle < cycles; cycle += 1) {
    const model = packager.model()!;
    const open = model.open?.parts?.length ? model.open : model.segments.at(-1)!;
    const last = { msn: open.msn, part: open.parts!.length - 1 };
    const answered = message();
    const cycleStart = process.cpuUsage();
    child.send({
      type: 'cycle',
      playlist: `/hls/stream.m3u8?_HLS_msn=${last.msn}&_HLS_part=${last.part + 1}&_HLS_skip=YES`,
      part: `/hls/${model.preloadHint}`,
    });
    const since = Date.now();
    while (packager.stats().waiting < 2 * viewers) {
      if (Date.now() - since > 30_000) throw new Error(`only ${packager.stats().waiting} requests held`);
      await sleep(5);
    }
    await sleep(20);
    const made = packager.stats().partsMade;
    const releaseStart = process.cpuUsage();
    while (packager.stats().partsMade === made) push();
    notOk += (await answered).notOk ?? 0;
    const release = process.cpuUsage(releaseStart);
    const whole = process.cpuUsage(cycleStart);
    if (cycle < WARM_UP) continue;
    perAnswer.push((release.user + release.system) / (2 * viewers));
    perRequest.push((whole.user + whole.system) / (2 * viewers));
  }
  const answer = median(perAnswer);
  console.log(
    `${viewers} viewers, ${perAnswer.length} parts: the service's CPU per held answer ${answer.toFixed(1)} µs ` +
      `(a part releasing ${2 * viewers} answers: ${((answer * 2 * viewers) / 1000).toFixed(0)} ms of CPU), ` +
      `per request taken in, held and answered ${median(perRequest).toFixed(1)} µs; ` +
      `answers other than 200: ${notOk}; load average ${loadavg()[0]!.toFixed(1)}`,
  );
} finally {
  client.child?.kill();
  await app.close();
  rmSync(hlsDir, { recursive: true, force: true });
}
process.exit(0);
