/**
 * The WebRTC viewer page of the bench, the same for ours (WHEP) and for Janus: a blank page on an
 * origin of its own (a loopback server of the bench, which also serves the protocol's stamp reader),
 * one RTCPeerConnection receiving H.264, and the stamp of every displayed frame read off the picture
 * in a requestVideoFrameCallback, as the web client and test/whep.test.ts do (glass to glass =
 * display time − stamp). The signalling runs in the bench: the page only makes or answers an offer.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { Teardown } from '../lib/teardown.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** What the page keeps in `window.__bench`. */
interface PageState {
  pc?: RTCPeerConnection;
  samples: { at: number; latencyMs: number }[];
  firstFrameAt?: number;
  unread: number;
}

/** Serves the viewer page and stamp.js on loopback; its URL. */
export async function viewerOrigin(teardown: Teardown): Promise<string> {
  const stampJs = await readFile(join(ROOT, 'packages/protocol/dist/stamp.js'), 'utf8');
  const server = createServer((request, response) => {
    if (request.url === '/stamp.js') response.setHeader('content-type', 'text/javascript').end(stampJs);
    else
      response
        .setHeader('content-type', 'text/html')
        .end('<!doctype html><title>bench viewer</title><video muted autoplay playsinline></video>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  teardown.add(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }, 'the viewer page server');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** In the page: a receiving peer connection and the stamp reader on every displayed frame. */
async function setUp(): Promise<void> {
  interface StampModule {
    readStamp(luma: (x: number, y: number) => number, width: number, height: number): number | undefined;
    stampGeometry(width: number): { height: number };
    stampToEpochMs(value: number, now: number): number;
  }
  // Not `import()`: tsx would rewrite it, and this function runs in the page.
  const load = new Function('url', 'return import(url)') as (url: string) => Promise<StampModule>;
  const { readStamp, stampGeometry, stampToEpochMs } = await load(`${location.origin}/stamp.js`);
  const state: PageState = { samples: [], unread: 0 };
  (window as unknown as { __bench: PageState }).__bench = state;
  const video = document.querySelector('video')!;
  const context = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
  const onFrame = (_now: number, frame: VideoFrameCallbackMetadata) => {
    const shownAt = performance.timeOrigin + frame.expectedDisplayTime;
    state.firstFrameAt ??= shownAt;
    const { width, height } = frame;
    const rows = Math.ceil(stampGeometry(width).height);
    context.canvas.width = width;
    context.canvas.height = rows;
    context.drawImage(video, 0, 0, width, rows, 0, 0, width, rows);
    const data = context.getImageData(0, 0, width, rows).data;
    const luma = (x: number, y: number) => {
      const i = (y * width + x) * 4;
      return 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
    };
    const value = readStamp(luma, width, height);
    if (value === undefined) state.unread += 1;
    else state.samples.push({ at: shownAt, latencyMs: shownAt - stampToEpochMs(value, Date.now()) });
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  const pc = new RTCPeerConnection();
  state.pc = pc;
  pc.ontrack = (event) => {
    video.srcObject = new MediaStream([event.track]);
    void video.play().catch(() => undefined);
  };
}

/** In the page: the local description once ICE gathering is complete (at most 2 s). */
async function gathered(): Promise<string> {
  const pc = (window as unknown as { __bench: PageState }).__bench.pc!;
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    setTimeout(resolve, 2000);
  });
  return pc.localDescription!.sdp;
}

export interface ViewerPage {
  page: Page;
  errors: string[];
  /** WHEP: a recvonly video offer (after ICE gathering). */
  offer(): Promise<string>;
  /** WHEP: the service's answer. */
  accept(answer: string): Promise<void>;
  /** Janus: its offer in, the page's answer out (after ICE gathering). */
  answer(offer: string): Promise<string>;
  /** The epoch ms of the first frame shown, once there is one. */
  firstFrameAt(): Promise<number | undefined>;
  /** Displayed frames newer than `since`, and the count of frames whose stamp could not be read. */
  samples(since?: number): Promise<{ samples: PageState['samples']; unread: number }>;
  close(): Promise<void>;
}

export async function openViewer(browser: BrowserContext, origin: string): Promise<ViewerPage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // tsx (esbuild, keepNames) wraps named functions in __name(): the page needs it too.
  await page.addInitScript('globalThis.__name = (fn) => fn');
  await page.goto(origin);
  await page.evaluate(setUp);
  return {
    page,
    errors,
    offer: async () => {
      await page.evaluate(async () => {
        const pc = (window as unknown as { __bench: PageState }).__bench.pc!;
        pc.addTransceiver('video', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
      });
      return page.evaluate(gathered);
    },
    accept: (answer) =>
      page.evaluate(async (sdp) => {
        const pc = (window as unknown as { __bench: PageState }).__bench.pc!;
        await pc.setRemoteDescription({ type: 'answer', sdp });
      }, answer),
    answer: async (offer) => {
      await page.evaluate(async (sdp) => {
        const pc = (window as unknown as { __bench: PageState }).__bench.pc!;
        await pc.setRemoteDescription({ type: 'offer', sdp });
        await pc.setLocalDescription(await pc.createAnswer());
      }, offer);
      return page.evaluate(gathered);
    },
    firstFrameAt: () =>
      page.evaluate(() => (window as unknown as { __bench: PageState }).__bench.firstFrameAt),
    samples: (since = -Infinity) =>
      page.evaluate((since) => {
        const state = (window as unknown as { __bench: PageState }).__bench;
        return { samples: state.samples.filter((s) => s.at > since), unread: state.unread };
      }, since),
    close: async () => {
      await page.evaluate(() => (window as unknown as { __bench: PageState }).__bench.pc?.close());
      await page.close();
    },
  };
}

/** Polls the page until its first frame is shown; throws after `timeoutMs`. */
export async function waitForFirstFrame(
  viewer: ViewerPage,
  what: string,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const at = await viewer.firstFrameAt();
    if (at !== undefined) return at;
    if (Date.now() > deadline)
      throw new Error(
        `${what}: no frame shown in ${timeoutMs} ms${viewer.errors.length ? `\n${viewer.errors.join('\n')}` : ''}`,
      );
    await viewer.page.waitForTimeout(10);
  }
}
