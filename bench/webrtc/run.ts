/**
 * The WebRTC systems: our service's WHEP output fed by our agent (`ours-webrtc`) and by a camera that
 * is not ours (`ours-webrtc-foreign`), and Janus's streaming plugin (`janus`) fed the very datagrams
 * our agent sends to the service in the same run (a UDP tee in the bench copies each one to an ffmpeg
 * that sends it on as RTP). Each: `coldStarts` viewers joining the live stream (request → first frame),
 * the last one held for the steady window (glass to glass of every displayed frame, resources); ours
 * fed by the agent also gets `viewers` werift viewers at once.
 */
import { createSocket } from 'node:dgram';
import { ForeignCamera } from '../../test/helpers/foreign-camera.js';
import { freeUdpPort } from '../../test/helpers/ports.js';
import { startSystem, type System } from '../../test/helpers/system.js';
import { waitFor } from '../../test/helpers/wait.js';
import { median } from '../lib/stats.js';
import { cachedFinder, childrenNamed, ResourceSampler, type RoleFinder } from '../lib/resources.js';
import {
  chromiumFinder,
  commandLine,
  FOREIGN_VIDEO,
  ms,
  STEP_TIMEOUT_MS,
  VIDEO,
  VIDEO_ENV,
  type BenchContext,
} from '../systems/common.js';
import { inputOf } from '../systems/ours.js';
import { startJanus, startRtpSender, type Janus } from './janus.js';
import { viewerLoad } from './load.js';
import { openViewer, viewerOrigin, waitForFirstFrame, type ViewerPage } from './page.js';
import type { WebrtcJoin, WebrtcRun, WebrtcSystemName } from './types.js';

/** Our segmenter's input options (checked against its command line in the run). */
const SEGMENTER_INPUT = { options: ['-probesize', '32', '-analyzeduration', '0', '-f', 'mpegts'], query: '' };

const TITLES: Record<WebrtcSystemName, string> = {
  'ours-webrtc': 'ours (camstream, WebRTC: WHEP, H.264 passthrough from the same ingest), fed by our agent',
  'ours-webrtc-foreign':
    'ours (WebRTC), a camera that is not our agent: plain ffmpeg, 1 s GOP, ffmpeg’s mpegts muxer',
  janus:
    'Janus 1.1 (Debian), streaming plugin, RTP mountpoint, fed the same datagrams as ours-webrtc through ffmpeg -c copy -f rtp',
};

/** Copies every datagram that reaches `port` to each target port (loopback). */
async function udpTee(ctx: BenchContext): Promise<{ port: number; targets: number[] }> {
  const port = await freeUdpPort();
  const input = createSocket('udp4');
  const output = createSocket('udp4');
  const tee = { port, targets: [] as number[] };
  input.on('message', (datagram) => {
    for (const target of tee.targets) output.send(datagram, target, '127.0.0.1');
  });
  await new Promise<void>((resolve) => input.bind(port, '127.0.0.1', resolve));
  ctx.teardown.add(() => {
    input.close();
    output.close();
  }, 'the UDP tee');
  return tee;
}

/**
 * One viewer joining: its page, the signalling. `beganAt`: the first thing the viewer does (ours: the
 * page makes its offer; Janus: the watch request), the same footing for both; `requestAt`: the request
 * that the first-frame target counts from (ours: the WHEP POST; Janus: the watch request).
 */
type Join = (
  page: ViewerPage,
) => Promise<{ beganAt: number; requestAt: number; answeredAt: number; leave(): Promise<void> }>;

function whepJoin(system: System): Join {
  return async (page) => {
    const beganAt = Date.now();
    const offer = await page.offer();
    const requestAt = Date.now();
    const response = await fetch(`${system.baseUrl}/api/stream/whep`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: offer,
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status !== 201)
      throw new Error(`WHEP answered ${response.status}: ${await response.text()}`);
    const answer = await response.text();
    const answeredAt = Date.now();
    await page.accept(answer);
    const location = new URL(response.headers.get('location')!, system.baseUrl).href;
    const leave = async () =>
      void (await fetch(location, { method: 'DELETE', signal: AbortSignal.timeout(5000) }));
    return { beganAt, requestAt, answeredAt, leave };
  };
}

function janusJoin(janus: Janus): Join {
  return async (page) => {
    const viewer = await janus.watch();
    const answeredAt = Date.now();
    await viewer.start(await page.answer(viewer.offer));
    const requestAt = viewer.requestedAt;
    return { beganAt: requestAt, requestAt, answeredAt, leave: () => viewer.close() };
  };
}

/** `coldStarts` joins; the last viewer stays for the steady window. */
async function measure(
  ctx: BenchContext,
  name: WebrtcSystemName,
  origin: string,
  join: Join,
  roles: Record<string, RoleFinder>,
): Promise<Pick<WebrtcRun, 'joins' | 'steady' | 'resources'>> {
  const joins: WebrtcJoin[] = [];
  for (let cycle = 1; cycle <= ctx.options.coldStarts; cycle++) {
    const page = await openViewer(ctx.browser, origin);
    let joined: Awaited<ReturnType<Join>> | undefined;
    try {
      joined = await join(page);
      const firstAt = await waitForFirstFrame(page, `${name}: viewer ${cycle}`, STEP_TIMEOUT_MS);
      const record = {
        cycle,
        requestAt: joined.requestAt,
        toAnswer: joined.answeredAt - joined.requestAt,
        toFirstFrame: firstAt - joined.requestAt,
        fromBegin: firstAt - joined.beganAt,
      };
      joins.push(record);
      ctx.log(
        `${name}: join ${cycle}/${ctx.options.coldStarts}: request → answer ${ms(record.toAnswer)}, → first frame ${ms(record.toFirstFrame)} (${ms(record.fromBegin)} from the viewer's first step)`,
      );
      if (cycle < ctx.options.coldStarts) {
        // Not at a fixed phase of the GOP: a viewer joins whenever.
        await page.page.waitForTimeout(1500 + Math.random() * 1000);
        continue;
      }
      const sampler = new ResourceSampler(roles);
      const endAt = Date.now() + ctx.options.durationSec * 1000;
      const samples: WebrtcRun['steady']['samples'] = [];
      let since = firstAt;
      let unread = 0;
      while (Date.now() < endAt) {
        await page.page.waitForTimeout(Math.min(5000, endAt - Date.now()));
        const read = await page.samples(since);
        samples.push(...read.samples);
        since = samples.at(-1)?.at ?? since;
        unread = read.unread;
        const recent = read.samples.map((s) => s.latencyMs);
        ctx.log(
          `${name}: steady: glass-to-glass median (last 5 s) ${ms(median(recent))}, ${samples.length} samples`,
        );
      }
      const resources = sampler.stop();
      if (samples.length === 0)
        throw new Error(`${name}: no glass-to-glass samples (unreadable stamps: ${unread})`);
      return {
        joins,
        steady: { firstFrameAt: firstAt, endedAt: Date.now(), samples, unreadFrames: unread },
        resources,
      };
    } finally {
      await joined?.leave().catch(() => undefined);
      await page.close();
    }
  }
  throw new Error('unreachable: --cold-starts is at least 1');
}

export interface WebrtcOptions {
  systems: WebrtcSystemName[];
  /** werift viewers at once for the load figure (0: none). */
  viewers: number;
}

export async function runWebrtc(
  ctx: BenchContext,
  options: WebrtcOptions,
): Promise<Partial<Record<WebrtcSystemName, WebrtcRun>>> {
  const runs: Partial<Record<WebrtcSystemName, WebrtcRun>> = {};
  const origin = await viewerOrigin(ctx.teardown);
  const want = (name: WebrtcSystemName) => options.systems.includes(name);
  const webEnv = {
    LOG_LEVEL: 'info',
    WEBRTC_INTERFACE: '127.0.0.1',
    WEBRTC_MAX_VIEWERS: String(Math.max(10, options.viewers + 2)),
  };

  if (want('ours-webrtc') || want('janus')) {
    const tee = await udpTee(ctx);
    ctx.log('ours-webrtc: starting the web service and the agent (stamped test source), through a UDP tee');
    const system = await startSystem(ctx.teardown, {
      broker: 'embedded',
      agent: true,
      webEnv,
      agentEnv: { ...VIDEO_ENV, LOG_LEVEL: 'info', UDP_TARGET: `udp://127.0.0.1:${tee.port}` },
    });
    tee.targets.push(system.udpPort);
    const webPid = system.web.proc.pid!;
    const agentPid = system.agent!.proc.pid!;
    // Janus and its RTP sender listen before the camera starts, as our segmenter does.
    let janus: Janus | undefined;
    let sender: Awaited<ReturnType<typeof startRtpSender>> | undefined;
    if (want('janus')) {
      ctx.log('janus: starting Janus (streaming plugin, RTP mountpoint) and its RTP sender on the tee');
      janus = await startJanus(ctx.teardown);
      const feedPort = await freeUdpPort();
      sender = await startRtpSender(ctx.teardown, { ...SEGMENTER_INPUT, port: feedPort }, janus.rtpPort);
      tee.targets.push(feedPort);
    }
    const started = await system.api('/api/stream/start', { method: 'POST' });
    if (started.status !== 200)
      throw new Error(`POST /api/stream/start answered ${started.status}: ${JSON.stringify(started.body)}`);
    const commands: Record<string, string> = {};
    const segmenter = await commandLine((await childrenNamed(webPid, 'ffmpeg'))[0]);
    const encoder = await commandLine((await childrenNamed(agentPid, 'ffmpeg'))[0]);
    if (segmenter) commands['segmenter (ffmpeg, in the web service)'] = segmenter.join(' ');
    if (encoder) commands['encoder (ffmpeg, in the agent)'] = encoder.join(' ');
    const input = segmenter && inputOf(segmenter);
    if (sender && input && input.options.join(' ') !== SEGMENTER_INPUT.options.join(' '))
      ctx.log(
        `janus: the RTP sender reads with ${SEGMENTER_INPUT.options.join(' ')}, our segmenter with ${input.options.join(' ')}`,
      );
    if (want('ours-webrtc')) {
      const result = await measure(ctx, 'ours-webrtc', origin, whepJoin(system), {
        'web service (node, with the WebRTC output)': async () => [webPid],
        'segmenter (ffmpeg)': cachedFinder(() => childrenNamed(webPid, 'ffmpeg')),
        'agent (node)': async () => [agentPid],
        'encoder (ffmpeg)': cachedFinder(() => childrenNamed(agentPid, 'ffmpeg')),
        'player (Chromium, all processes)': chromiumFinder,
      });
      let load;
      if (options.viewers > 0) {
        ctx.log(`ours-webrtc: ${options.viewers} werift viewers at once`);
        load = await viewerLoad(
          ctx.teardown,
          `${system.baseUrl}/api/stream/whep`,
          webPid,
          options.viewers,
          Math.min(10_000, ctx.options.durationSec * 1000),
          VIDEO.fps,
        );
        ctx.log(
          `ours-webrtc: ${load.viewers} viewers: frames received per viewer ${Math.min(...load.framesReceived)}–${Math.max(...load.framesReceived)} (camera: ${Math.min(...(load.framesSent ?? []))}–${Math.max(...(load.framesSent ?? []))} in their spans; wall clock ${load.framesExpected}), packets lost ${load.packetsLost.reduce((a, b) => a + b, 0)}, service CPU ${Math.round(load.serviceCpuIdle)} % → ${Math.round(load.serviceCpuLoaded)} %`,
        );
      }
      runs['ours-webrtc'] = {
        system: 'ours-webrtc',
        title: TITLES['ours-webrtc'],
        ...result,
        ...(load && { load }),
        commands,
        notes: [],
      };
    }
    if (janus && sender) {
      const result = await measure(ctx, 'janus', origin, janusJoin(janus), {
        'Janus (streaming plugin)': async () => [janus.proc.pid!],
        'RTP sender (ffmpeg -c copy -f rtp)': async () => [sender.proc.pid!],
        'encoder (ffmpeg)': cachedFinder(() => childrenNamed(agentPid, 'ffmpeg')),
        'player (Chromium, all processes)': chromiumFinder,
      }).catch((error: Error) => {
        throw new Error(
          `${error.message}\nthe RTP sender: ${sender.args.join(' ')}\n${sender.output()}\nJanus:\n${janus.output()}`,
        );
      });
      runs.janus = {
        system: 'janus',
        title: TITLES.janus,
        ...result,
        commands: { 'RTP sender for Janus (ffmpeg)': ['ffmpeg', ...sender.args].join(' ') },
        notes: [
          'janus: the same datagrams as ours-webrtc (a UDP tee in the bench copies each to an ffmpeg that sends RTP, ' +
            '-c copy, reading its input with our segmenter’s options); its page is the same as ours, with Janus’s offer ' +
            'answered instead of a WHEP offer made; request → first frame counts from the watch request. Janus and its ' +
            'sender run from the stream’s start, so also (idle, no viewer) while ours-webrtc is measured. Janus offers ' +
            'host candidates on the machine’s own interface address (libnice leaves loopback out); the packets stay on the machine.',
        ],
      };
    }
    await system.api('/api/stream/stop', { method: 'POST' });
    await system.agent?.stop();
  }

  if (want('ours-webrtc-foreign')) {
    ctx.log('ours-webrtc-foreign: starting the web service and a foreign camera (plain ffmpeg)');
    const system = await startSystem(ctx.teardown, { broker: 'embedded', agent: false, webEnv });
    const foreign = await ForeignCamera.connect({
      mqttUrl: system.mqttUrl,
      target: `udp://127.0.0.1:${system.udpPort}`,
      ...FOREIGN_VIDEO,
    });
    ctx.teardown.add(() => foreign.close(), 'the foreign camera');
    // Start only once the service has heard the camera's retained `idle` (before: 503, camera offline).
    await waitFor(
      'ours-webrtc-foreign: the service to see the foreign camera idle',
      async () => {
        const { body } = await system.api('/api/stream');
        return (body as { camera?: { state?: string } | null }).camera?.state === 'idle';
      },
      { timeoutMs: STEP_TIMEOUT_MS },
    );
    const started = await system.api('/api/stream/start', { method: 'POST' });
    if (started.status !== 200)
      throw new Error(`POST /api/stream/start answered ${started.status}: ${JSON.stringify(started.body)}`);
    const webPid = system.web.proc.pid!;
    const result = await measure(ctx, 'ours-webrtc-foreign', origin, whepJoin(system), {
      'web service (node, with the WebRTC output)': async () => [webPid],
      'segmenter (ffmpeg)': cachedFinder(() => childrenNamed(webPid, 'ffmpeg')),
      'encoder (ffmpeg)': async () => (foreign.encoderPid === undefined ? [] : [foreign.encoderPid]),
      'player (Chromium, all processes)': chromiumFinder,
    });
    runs['ours-webrtc-foreign'] = {
      system: 'ours-webrtc-foreign',
      title: TITLES['ours-webrtc-foreign'],
      ...result,
      commands: foreign.commandLine
        ? { 'encoder (the foreign camera: plain ffmpeg)': foreign.commandLine }
        : {},
      notes: [],
    };
    await system.api('/api/stream/stop', { method: 'POST' });
    await foreign.close();
  }
  return runs;
}
