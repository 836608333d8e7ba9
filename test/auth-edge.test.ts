/**
 * The HTTPS edge example (infra/edge/nginx.conf) is a configuration nginx accepts: `nginx -t` on it,
 * with a self-signed certificate made for the test by openssl in place of the real one.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { tempDir, useCleanup } from './helpers/cleanup.js';
import { ROOT } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';

const run = promisify(execFile);
const ready = haveTools('nginx', 'openssl');

describe.runIf(ready)('infra/edge/nginx.conf', () => {
  const cleanup = useCleanup();

  test('nginx -t accepts it', async () => {
    const dir = await tempDir(cleanup, 'camstream-edge-');
    const cert = join(dir, 'fullchain.pem');
    const key = join(dir, 'privkey.pem');
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
      '-subj', '/CN=cams.example.org', '-keyout', key, '-out', cert,
    ]); // prettier-ignore
    const site = (await readFile(join(ROOT, 'infra/edge/nginx.conf'), 'utf8'))
      .replace('/etc/ssl/camstream/fullchain.pem', cert)
      .replace('/etc/ssl/camstream/privkey.pem', key);
    expect(site).toContain(cert);
    await writeFile(join(dir, 'site.conf'), site);
    // The site as a distribution's nginx.conf includes it, inside http {}.
    await writeFile(
      join(dir, 'nginx.conf'),
      [
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${join(dir, 'error.log')};`,
        'events {}',
        'http {',
        `  access_log off;`,
        `  client_body_temp_path ${dir};`,
        `  proxy_temp_path ${dir};`,
        `  include ${join(dir, 'site.conf')};`,
        '}',
      ].join('\n'),
    );
    const { stderr } = await run('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')]);
    expect(stderr).toMatch(/test is successful/);
    // A broken site is refused: the check can fail.
    await writeFile(join(dir, 'site.conf'), site.replace('proxy_buffering off;', 'proxy_buffering nope;'));
    await expect(run('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')])).rejects.toThrow(
      /proxy_buffering/,
    );
  });
});
