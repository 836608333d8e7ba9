/** Building what the bench runs (the apps' dist/), or checking it is there with --no-build. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** What the bench runs from dist/: the two CLIs and the web client the service serves. */
const DIST = [
  'apps/web-service/dist/server.js',
  'apps/camera-agent/dist/main.js',
  'apps/web-client/dist/index.html',
];

/** `npm run build` in `root` when `build`; otherwise throws if a file of DIST is missing. */
export function buildOrCheck(root: string, build: boolean, log: (line: string) => void): void {
  if (build) {
    log('building (npm run build)');
    const { status } = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    if (status !== 0) throw new Error('npm run build failed');
    return;
  }
  const missing = DIST.filter((file) => !existsSync(join(root, file)));
  if (missing.length > 0) throw new Error(`--no-build, but ${missing.join(', ')} missing: run npm run build`);
}
