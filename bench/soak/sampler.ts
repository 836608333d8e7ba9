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

  /** Takes one sample; throws when the service, the agent or the viewer's page is gone. */
  async sample(): Promise<SoakSample> {
    const { web, agent } = this.#system;
    if (web.proc.exitCode !== null) throw new Error(`the web service exited (${web.proc.exitCode})`);
    if (agent && agent.proc.exitCode !== null) throw new Error(`the agent exited (${agent.proc.exitCode})`);
    const at = Date.now();
    const processes = await this.#probe.sample();
    // The service may be slow to answer under load: a sample without /metrics rather than none.
    const service = await this.#sources.metrics().catch(() => ({}));
    const disk = await this.#sources.disk();
    const viewer = await this.#viewer.sample();
    return {
      t: (at - this.#viewer.firstFrameAt) / 1000,
      at,
      load1: this.#sources.load(),
      processes,
      service,
      disk,
      viewer,
    };
  }
}
