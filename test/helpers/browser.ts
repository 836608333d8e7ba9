/** Debian's Chromium driven by playwright-core: never a downloaded browser. */
import { chromium, type BrowserContext } from 'playwright-core';
import type { Cleanup } from './cleanup.js';
import { tempDir } from './temp-dir.js';
import { CHROMIUM_PATH } from './tools.js';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Muted autoplay is allowed anyway; this keeps a policy change from blanking the test.
  '--autoplay-policy=no-user-gesture-required',
];

/** A fresh browser profile in a temporary folder, closed and removed by `cleanup`. */
export async function launchBrowser(
  cleanup: Cleanup,
  viewport = { width: 1280, height: 800 },
): Promise<BrowserContext> {
  const userDataDir = await tempDir(cleanup, 'camstream-chromium-');
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  cleanup.add(() => context.close());
  return context;
}
