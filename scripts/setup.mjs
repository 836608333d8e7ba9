// Installs what is missing before `npm start` and `npm test`: checks Node, installs the Debian packages
// the project needs (when it may: root with apt-get; otherwise it prints the command), installs npm
// packages when node_modules is missing or older than the lockfile, and builds.
// Plain Node, no dependencies: it runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What each tool is for and which Debian package brings it. */
const TOOLS = {
  ffmpeg: { pkg: 'ffmpeg', why: 'the segmenter and the test camera source' },
  ffprobe: { pkg: 'ffmpeg', why: 'tests read the stream back' },
  mosquitto: { pkg: 'mosquitto', why: 'tests run a real MQTT broker' },
  mosquitto_pub: { pkg: 'mosquitto-clients', why: 'tests publish commands as a user would' },
  mosquitto_sub: { pkg: 'mosquitto-clients', why: 'tests watch status as a user would' },
  chromium: { pkg: 'chromium', why: 'end-to-end tests drive a real browser', path: '/usr/bin/chromium' },
  nginx: { pkg: 'nginx', why: 'the benchmark compares against nginx-rtmp', path: '/usr/sbin/nginx' },
  openssl: { pkg: 'openssl', why: 'the MQTT TLS tests make their CA and certificates' },
  inotifywait: { pkg: 'inotify-tools', why: 'tests watch that bad /hls paths open no file outside HLS_DIR' },
  varnishd: {
    pkg: 'varnish',
    why: 'the LL-HLS caching edge (infra/edge/varnish.vcl) is tested in front of the service',
    path: '/usr/sbin/varnishd',
  },
  janus: {
    pkg: 'janus',
    why: 'the benchmark compares our WebRTC output against Janus',
    path: '/usr/bin/janus',
  },
  jinja2: {
    pkg: 'python3-jinja2',
    why: 'tests render the Home Assistant templates with real Jinja2',
    probe: ['python3', '-c', 'import jinja2'],
  },
  'nginx-rtmp': {
    pkg: 'libnginx-mod-rtmp',
    why: 'the benchmark compares against nginx-rtmp',
    path: '/usr/lib/nginx/modules/ngx_rtmp_module.so',
  },
};

export function log(message) {
  process.stderr.write(`\x1b[36m[setup]\x1b[0m ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function hasCommand(name) {
  const tool = TOOLS[name];
  if (tool?.path) return existsSync(tool.path);
  if (tool?.probe) return spawnSync(tool.probe[0], tool.probe.slice(1), { stdio: 'ignore' }).status === 0;
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    log(`Node ${process.versions.node} is too old: camstream needs Node 20.19 or newer.`);
    process.exit(1);
  }
}

/** Installs the Debian packages behind the missing tools, or explains how to. */
export function ensureTools(names) {
  const missing = names.filter((name) => !hasCommand(name));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((name) => TOOLS[name].pkg))];
  for (const name of missing) log(`missing ${name}: needed for ${TOOLS[name].why}`);
  const canApt = process.getuid?.() === 0 && hasCommand('apt-get');
  if (!canApt) {
    log(`Install them and run again:\n    sudo apt-get install -y ${packages.join(' ')}`);
    log('(macOS: brew install ffmpeg mosquitto, and Chromium for the end-to-end tests)');
    process.exit(1);
  }
  log(`installing Debian packages: ${packages.join(' ')} (this takes a minute or two)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (
    run('apt-get', ['update', '-q'], { env }) !== 0 ||
    run('apt-get', ['install', '-y', '-q', ...packages], { env }) !== 0
  ) {
    log('apt-get failed; install the packages above by hand and run again.');
    process.exit(1);
  }
}

/** npm ci when node_modules is missing or older than the lockfile. */
export function ensureNpmPackages() {
  const lock = join(root, 'package-lock.json');
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm packages (npm ci)');
  if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) process.exit(1);
}

/** The newest modification time under `path` (folders count: adding or removing a file changes them). */
function newestChange(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (['dist', 'node_modules', 'test'].includes(entry)) continue;
    newest = Math.max(newest, newestChange(join(path, entry)));
  }
  return newest;
}

/** The client bundle is older than something it is built from (its sources, the protocol, the packages). */
function clientIsStale() {
  const built = join(root, 'apps/web-client/dist/index.html');
  if (!existsSync(built)) return true;
  const inputs = [
    'apps/web-client',
    'packages/protocol/src',
    'package-lock.json',
    'node_modules/.package-lock.json',
  ];
  return inputs.some((input) => newestChange(join(root, input)) >= statSync(built).mtimeMs);
}

/**
 * Incremental TypeScript build of the Node apps, then the web client bundle when it is stale: vite has
 * no incremental build, and rebuilding an unchanged bundle took 6-20 s of every `npm start`.
 */
export function build() {
  if (!clientIsStale()) {
    log('building (tsc -b; the web client is up to date)');
    if (run('npx', ['tsc', '-b', 'tsconfig.build.json']) !== 0) process.exit(1);
    return;
  }
  log('building (tsc -b, vite build)');
  if (run('npm', ['run', '--silent', 'build']) !== 0) process.exit(1);
}
