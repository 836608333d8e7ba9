/**
 * The one viewer: the web client in Chromium on `/?stats=1&transport=hls` (HLS; the page's default is WebRTC), Start clicked as a person would, then
 * read once per interval: the glass-to-glass samples since the last read (the page keeps a ring of
 * 20 000, about 11 minutes at 30 fps, so reading each interval loses none), frames, stalls, and the
 * page's JS heap over CDP (exact figures, unlike performance.memory's rounded ones). CDP's DOM node and
 * listener counts are left out: they count garbage not yet collected and swing by hundreds.
 */
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { logMediaEvents, readStats, waitForStats, type MediaEvent } from '../lib/page.js';
import { percentile } from '../lib/stats.js';
import { STALL_GRACE_MS } from '../report/analysis.js';
import type { ViewerSample } from './types.js';

const MiB = 2 ** 20;

export class Viewer {
  readonly page: Page;
  readonly mediaEvents: MediaEvent[] = [];
  clickedAt = 0;
  firstFrameAt = 0;
  readonly #cdp: CDPSession;
  readonly #errors: string[] = [];
  #crashed = false;
  #since = -Infinity;
  #readAt = 0;
  #last = { unreadable: 0, dropped: 0, stallMs: 0 };

  private constructor(page: Page, cdp: CDPSession) {
    this.page = page;
    this.#cdp = cdp;
    page.on('crash', () => (this.#crashed = true));
    page.on('pageerror', (error) => this.#errors.push(error.message));
  }

  /** The context's own first tab (a second one would add a renderer that is not the viewer's). */
  static async open(browser: BrowserContext): Promise<Viewer> {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await logMediaEvents(page);
    const cdp = await browser.newCDPSession(page);
    await cdp.send('Performance.enable');
    return new Viewer(page, cdp);
  }

  /** Opens the page, clicks Start and waits for the first frame on screen. */
  async start(baseUrl: string, timeoutMs: number): Promise<void> {
    await this.page.goto(`${baseUrl}/?stats=1&transport=hls`);
    await this.page
      .getByTestId('camera-state')
      .and(this.page.locator('[data-state="idle"]'))
      .waitFor({ timeout: timeoutMs });
    await this.page.getByTestId('start').click();
    const stats = await waitForStats(
      this.page,
      'the first frame after Start',
      (s) => (s.firstFrameAt !== undefined && s.startClickedAt !== undefined ? s : undefined),
      timeoutMs,
    ).catch((err: Error) => {
      const errors = this.#errors.length > 0 ? `\npage errors: ${this.#errors.join('\n')}` : '';
      throw new Error(`${err.message}${errors}`);
    });
    this.clickedAt = stats.startClickedAt!;
    this.firstFrameAt = stats.firstFrameAt!;
    this.#readAt = Date.now();
  }

  /** What happened since the previous call. Throws if the page crashed or lost its stats. */
  async sample(): Promise<ViewerSample> {
    if (this.#crashed) throw new Error('the viewer’s page crashed');
    const stats = await readStats(this.page, this.#since);
    if (!stats) throw new Error('the viewer’s page lost window.__camstreamStats');
    this.#since = stats.samples.at(-1)?.at ?? this.#since;
    const newEvents = await this.page.evaluate(
      (from) =>
        (window as unknown as { __benchMediaEvents?: unknown[] }).__benchMediaEvents?.slice(from) ?? [],
      this.mediaEvents.length,
    );
    this.mediaEvents.push(...(newEvents as MediaEvent[]));
    const buffered = await this.page.evaluate(() => {
      const video = document.querySelector('video');
      if (!video) return undefined;
      let total = 0;
      for (let i = 0; i < video.buffered.length; i++)
        total += video.buffered.end(i) - video.buffered.start(i);
      return total;
    });
    const latencies = stats.samples.map((s) => s.latencyMs);
    const unreadable = stats.unreadFrames - this.#last.unreadable;
    const dropped = stats.droppedFrames === undefined ? undefined : stats.droppedFrames - this.#last.dropped;
    const stallMs = stats.stallMs - this.#last.stallMs;
    this.#last = {
      unreadable: stats.unreadFrames,
      dropped: stats.droppedFrames ?? 0,
      stallMs: stats.stallMs,
    };
    const stalls = (newEvents as MediaEvent[]).filter(
      (e) => e.type === 'waiting' && e.at >= this.firstFrameAt + STALL_GRACE_MS,
    ).length;
    const seconds = (stats.readAt - this.#readAt) / 1000;
    this.#readAt = stats.readAt;
    const sample: ViewerSample = {
      seconds,
      frames: latencies.length + unreadable,
      stamped: latencies.length,
      unreadable,
      stalls,
      stallMs,
      ...(dropped !== undefined && { dropped }),
      ...(latencies.length > 0 && {
        latencyMedianMs: percentile(latencies, 50)!,
        latencyP95Ms: percentile(latencies, 95)!,
      }),
      ...(stats.hlsLatency !== undefined && { hlsLatencySec: stats.hlsLatency }),
      ...(stats.bufferSeconds !== undefined && { bufferSec: stats.bufferSeconds }),
      ...(buffered !== undefined && { mediaBufferedSec: buffered }),
      ...(await this.#heap()),
    };
    return sample;
  }

  /** The page's JS heap; empty if CDP does not answer (the sample goes on without). */
  async #heap(): Promise<Partial<ViewerSample>> {
    try {
      const { metrics } = await this.#cdp.send('Performance.getMetrics');
      const metric = (name: string) => metrics.find((m) => m.name === name)?.value;
      const used = metric('JSHeapUsedSize');
      const total = metric('JSHeapTotalSize');
      return {
        ...(used !== undefined && { jsHeapUsedMiB: used / MiB }),
        ...(total !== undefined && { jsHeapTotalMiB: total / MiB }),
      };
    } catch {
      return {};
    }
  }
}
