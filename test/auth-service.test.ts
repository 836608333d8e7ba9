/**
 * The door in the real built service (dist/server.js): it refuses to start on a non-loopback HOST
 * without tokens, with a sentence saying what to do; and AUTH_TOKENS_FILE is re-read while it runs
 * (a new token works, a removed one is refused, a malformed file keeps the last good set and the log
 * says why, never with a token in it).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { tempDir, useCleanup } from './helpers/cleanup.js';
import { freeTcpPort, freeUdpPort } from './helpers/ports.js';
import { runNode } from './helpers/processes.js';
import { SERVICE_CLI, startSystem } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const ready = haveTools('ffmpeg');
const FIRST = 'op-first-0123456789abcdef';
const SECOND = 'op-second-0123456789abcdef';

describe.runIf(ready)('the door in the built service', () => {
  const cleanup = useCleanup();

  test.each([
    [{ HOST: '0.0.0.0' }, /HOST=0\.0\.0\.0 without tokens.*AUTH_TOKENS/s],
    [{ HOST: '0.0.0.0', AUTH: 'none', AUTH_TOKENS: `operator:${FIRST}` }, /AUTH=none contradicts/],
  ])('refuses to start with %j, saying why', async (env, why) => {
    const dir = await tempDir(cleanup, 'camstream-door-');
    const web = runNode('web', SERVICE_CLI, {
      PORT: String(await freeTcpPort()),
      EMBEDDED_BROKER_PORT: String(await freeTcpPort()),
      UDP_LISTEN: `udp://127.0.0.1:${await freeUdpPort()}`,
      HLS_DIR: dir,
      ...env,
    });
    cleanup.add(() => web.stop());
    const exit = await Promise.race([
      web.exited(),
      new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 20_000)),
    ]);
    expect(exit, web.output()).not.toBe('running');
    expect((exit as { code: number | null }).code, web.output()).not.toBe(0);
    expect(web.output()).toMatch(why);
    // The token itself is not echoed in the refusal.
    expect(web.output()).not.toContain(FIRST);
  });

  test('AUTH_TOKENS_FILE: edits take effect, a malformed file keeps the last good set', async () => {
    const dir = await tempDir(cleanup, 'camstream-door-');
    const file = join(dir, 'tokens');
    await writeFile(file, `# operators\noperator:${FIRST}\n`);
    const system = await startSystem(cleanup, {
      broker: 'embedded',
      agent: false,
      token: FIRST,
      webEnv: { AUTH_TOKENS_FILE: file },
    });
    const as = async (token: string) =>
      (await fetch(`${system.baseUrl}/api/cameras`, { headers: { authorization: `Bearer ${token}` } }))
        .status;
    expect(await as(FIRST)).toBe(200);

    // The first token removed, a second added: polled with the removed one (a 200 is no failed
    // authentication, so the polling cannot trip the failure limit).
    await writeFile(file, `operator:${SECOND}\n`);
    await waitFor('the removed token to be refused', async () => (await as(FIRST)) === 401, {
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    expect(await as(SECOND)).toBe(200);

    // A malformed file: the service goes on with the last good set and says why.
    // Line 4: a token without its role (the role is not echoed: it would be the token).
    await writeFile(file, `operator:${SECOND}\nadmin:${FIRST}\nviewer:short\n${FIRST}\n`);
    await waitFor(
      () => `the warning in the log\n${system.web.output().slice(-2000)}`,
      async () =>
        (await as(SECOND)) === 200 && system.web.output().includes('keeping the tokens read before'),
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(system.web.output()).toMatch(/line 2: \\?"admin\\?": the role must be operator or viewer/);
    expect(system.web.output()).toMatch(/line 3: a viewer token must be 16-256/);
    expect(await as(FIRST)).toBe(401);
    // No token of the file ever reaches the log.
    expect(system.web.output()).not.toContain(FIRST);
    expect(system.web.output()).not.toContain(SECOND);
  }, 60_000);
});
