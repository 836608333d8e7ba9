/**
 * The app the door's tests knock on: an operator's and a viewer's token, a second camera `cam2`
 * (offline: nothing streams), port 0 everywhere. Built once per test file, on first use.
 */
import type { BuildAppOptions } from '../../src/app.js';
import type { Cleanup } from '../../../../test/helpers/cleanup.js';
import { freeUdpPort } from '../../../../test/helpers/ports.js';
import { startTestApp, type TestApp } from './app.js';

export const OPERATOR = 'op-0123456789abcdef';
export const VIEWER = 'view-0123456789abcdef';

/** The door's app, started by the first call and the same one after; `env` adds to (or overrides) the door's settings. */
export function doorApp(
  cleanup: Cleanup,
  env: Record<string, string> = {},
  options: BuildAppOptions = {},
): () => Promise<TestApp> {
  let started: Promise<TestApp> | undefined;
  return () =>
    (started ??= (async () =>
      startTestApp(
        cleanup,
        {
          AUTH_TOKENS: `operator:${OPERATOR},viewer:${VIEWER}`,
          CAMERAS: `cam2=udp://127.0.0.1:${await freeUdpPort()}`,
          ...env,
        },
        options,
      ))());
}
