/**
 * One soak sample: every process of the run from /proc, the service's /metrics, the disk, the
 * viewer. Finds the processes the way bench/lib/resources.ts does: the web service and the agent are
 * ours, their ffmpeg are their children, Chromium is this process's child.
 */
import type { System } from '../../test/helpers/system.js';
import { cachedFinder, childrenNamed, rssKb, type RoleFinder } from '../lib/resources.js';
import { chromiumFinder, commandLine } from '../systems/common.js';
import { ProcessProbe } from './probes.js';
import type { Role, ServiceSample, SoakSample } from './types.js';
import type { Viewer } from './viewer.js';

/** A viewer without a frame this long has lost the stream (a stall that long is a failure too). */
const NO_FRAMES_MS = 30_000;

export interface SampleSources {
  metrics(): Promise<ServiceSample>;
  disk(): Promise<SoakSample['disk']>;
  load(): number;
}

/**
 * The renderer playing the page: of Chromium's renderer processes, the one with the most memory
 * (a spare renderer or the about:blank one hold a few MiB; the one decoding video, far more).
 * Looked up again only when it is gone or once a minute, so it does not hop between processes.
 */
const rendererFinder: RoleFinder = cachedFinder(async () => {
  let best: { pid: number; kb: number } | undefined;
  for (const pid of await chromiumFinder()) {
    // Chromium rewrites its children's command lines into one string: look for the flag in it.
    const cmd = (await commandLine(pid))?.join(' ') ?? '';
    if (!cmd.includes('--type=renderer') || cmd.includes('--extension-process')) continue;
    const kb = (await rssKb(pid)) ?? 0;
    if (!best || kb > best.kb) best = { pid, kb };
  }
  return best ? [best.pid] : [];
}, 60_000);

export class Sampler {
  readonly #system: System;
  readonly #viewer: Viewer;
  readonly #sources: SampleSources;
  readonly #probe: ProcessProbe;
  /** Epoch ms of the last sample in which the viewer showed a frame. */
  #framesAt = Date.now();

  constructor(system: System, viewer: Viewer, sources: SampleSources) {
    this.#system = system;
    this.#viewer = viewer;
    this.#sources = sources;
    const webPid = system.web.proc.pid!;
    const agentPid = () => system.agent!.proc.pid!;
    const roles: Record<Role, RoleFinder> = {
      web: async () => [webPid],
      segmenter: cachedFinder(() => childrenNamed(webPid, 'ffmpeg')),
      agent: async () => [agentPid()],
      encoder: cachedFinder(() => childrenNamed(agentPid(), 'ffmpeg')),
      renderer: rendererFinder,
      chromium: chromiumFinder,
    };
    this.#probe = new ProcessProbe(roles);
  }

  /** The command lines of the encoder and the segmenter, for the report. */
  async commands(): Promise<Record<string, string>> {
    const webPid = this.#system.web.proc.pid!;
    const agentPid = this.#system.agent!.proc.pid!;
    const segmenter = await commandLine((await childrenNamed(webPid, 'ffmpeg'))[0]);
    const encoder = await commandLine((await childrenNamed(agentPid, 'ffmpeg'))[0]);
    return {
      ...(segmenter && { 'segmenter (ffmpeg, in the web service)': segmenter.join(' ') }),
      ...(encoder && { 'encoder (ffmpeg, in the agent)': encoder.join(' ') }),
    };
  }

  /**
   * Takes one sample; throws when the service, the agent or the viewer's page is gone, or when the
   * viewer has shown no frame for NO_FRAMES_MS: a soak of a stream that stopped measures nothing.
   */
  async sample(): Promise<SoakSample> {
    for (const { name, proc } of [this.#system.web, this.#system.agent!]) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `the ${name === 'web' ? 'web service' : name} exited (${proc.exitCode ?? proc.signalCode})`,
        );
      }
    }
    const at = Date.now();
    const processes = await this.#probe.sample();
    // The service may be slow to answer under load: a sample without /metrics rather than none.
    const service = await this.#sources.metrics().catch(() => ({}));
    const disk = await this.#sources.disk();
    const viewer = await this.#viewer.sample();
    if (viewer.frames > 0) this.#framesAt = at;
    if (at - this.#framesAt > NO_FRAMES_MS) {
      throw new Error(`the viewer has shown no frame for ${Math.round((at - this.#framesAt) / 1000)} s`);
    }
    return {
      t: (at - this.#viewer.firstFrameAt) / 1000,
      at,
      load1: this.#sources.load(),
      sampleMs: Date.now() - at,
      processes,
      service,
      disk,
      viewer,
    };
  }
}
