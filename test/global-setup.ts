/**
 * Before the integration project: the cross-app suites run the real CLIs from dist/, so bring the
 * build up to date (tsc -b is incremental: a no-op when nothing changed) and build the web client
 * if it has never been built. `npm test` has built everything already; this covers `npx vitest`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  execFileSync('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (!existsSync(join(root, 'apps/web-client/dist/index.html'))) {
    execFileSync('npm', ['run', '--silent', 'build', '-w', 'apps/web-client'], {
      cwd: root,
      stdio: 'inherit',
    });
  }
}
