// `npm test`: installs what the tests need, then runs every suite: static checks (types, lint, format),
// unit tests, integration tests with real ffmpeg and Mosquitto, end-to-end tests in Chromium.
import { spawnSync } from 'node:child_process';
import { build, checkNode, ensureNpmPackages, ensureTools, log, root } from './setup.mjs';

checkNode();
ensureTools([
  'ffmpeg',
  'ffprobe',
  'mosquitto',
  'mosquitto_pub',
  'mosquitto_sub',
  'chromium',
  'nginx',
  'nginx-rtmp',
  'inotifywait',
  'openssl',
  'curl',
  'janus',
  'jinja2',
  'varnishd',
]);
ensureNpmPackages();
build();

const steps = [
  ['typecheck', ['npm', ['run', '--silent', 'typecheck']]],
  ['lint', ['npm', ['run', '--silent', 'lint']]],
  ['tests', ['npx', ['vitest', 'run', ...process.argv.slice(2)]]],
];
for (const [name, [command, args]] of steps) {
  log(`${name}: ${command} ${args.join(' ')}`);
  const { status } = spawnSync(command, args, { stdio: 'inherit', cwd: root });
  if (status !== 0) {
    log(`${name} failed`);
    process.exit(status ?? 1);
  }
}
