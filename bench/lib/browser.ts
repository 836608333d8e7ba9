/**
 * Debian's Chromium for the bench, as the tests launch it (test/helpers/browser.ts: same flags, a
 * fresh profile), but without playwright's own signal handlers: on SIGINT they close every browser
 * and then call process.exit(130), which cut the bench's teardown short on Ctrl-C (the service, the
 * agent and the temporary folders were left behind). Teardown.guard handles the signals instead,
 * and closes the browser in its turn.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../test/helpers/browser.js';
import { CHROMIUM_PATH } from '../../test/helpers/tools.js';
import type { Teardown } from './teardown.js';

export async function launchBrowser(
  teardown: Teardown,
  viewport = { width: 1280, height: 800 },
): Promise<BrowserContext> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'camstream-chromium-'));
  teardown.add(() => rm(userDataDir, { recursive: true, force: true }), 'the Chromium profile');
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    // The peer's page is our client in player-only mode (?src=) playing nginx's playlist, another
    // origin than the one that served the page: the service's CSP (connect-src 'self') would refuse it.
    bypassCSP: true,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  teardown.add(() => context.close(), 'Chromium');
  return context;
}
