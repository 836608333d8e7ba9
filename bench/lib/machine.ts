/** The machine and the versions of everything measured, for the report. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';

/** stdout and stderr together (nginx -v prints to stderr); undefined when it could not run. */
function run(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  if (result.error) return undefined;
  return `${result.stdout}${result.stderr}`;
}

function packageVersion(root: string, name: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'unknown';
  }
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  /** 1, 5 and 15 minute load averages when the measuring began: others' work skews the figures. */
  loadAverage: number[];
  versions: Record<string, string>;
}

/** The programs and packages whose versions a report can name. */
export type VersionName =
  'ffmpeg' | 'Node' | 'Chromium' | 'hls.js' | 'playwright-core' | 'nginx' | 'libnginx-mod-rtmp' | 'mosquitto';

/** What `npm run bench` names (its peer is nginx-rtmp). */
const BENCH_VERSIONS: readonly VersionName[] = [
  'ffmpeg',
  'Node',
  'Chromium',
  'hls.js',
  'playwright-core',
  'nginx',
  'libnginx-mod-rtmp',
];

/** The machine, and the versions of `names` (default: what `npm run bench` measures). */
export function machineInfo(
  root: string,
  chromiumPath: string,
  nginxPath: string,
  names: readonly VersionName[] = BENCH_VERSIONS,
): MachineInfo {
  const osRelease = (() => {
    try {
      return /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    } catch {
      return undefined;
    }
  })();
  const probes: Record<VersionName, () => string> = {
    ffmpeg: () =>
      run('ffmpeg', ['-hide_banner', '-version'])
        ?.split('\n')[0]
        ?.replace(/^ffmpeg version /, '')
        .split(' ')[0] ?? 'unknown',
    Node: () => process.version,
    // Debian's wrapper script may print a shell warning too: keep the version line.
    Chromium: () => /Chromium [\d.]+/.exec(run(chromiumPath, ['--version']) ?? '')?.[0] ?? 'unknown',
    'hls.js': () => packageVersion(root, 'hls.js'),
    'playwright-core': () => packageVersion(root, 'playwright-core'),
    nginx: () => /nginx\/(\S+)/.exec(run(nginxPath, ['-v']) ?? '')?.[1] ?? 'unknown',
    'libnginx-mod-rtmp': () =>
      run('dpkg-query', ['-W', '-f', '${Version}', 'libnginx-mod-rtmp'])?.trim() || 'unknown',
    mosquitto: () => /mosquitto version (\S+)/.exec(run('mosquitto', ['-h']) ?? '')?.[1] ?? 'unknown',
  };
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osRelease ?? 'unknown'}, Linux ${release()}`,
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
    versions: Object.fromEntries(names.map((name) => [name, probes[name]()])),
  };
}

/**
 * Throws, naming the Debian packages to install, when a command is not on PATH or a file is missing.
 * `files`: package name → the file it provides (Chromium: CHROMIUM_PATH).
 */
export function requireTools(commands: readonly string[], files: Record<string, string> = {}): void {
  const missing = [
    ...commands.filter(
      (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
    ),
    ...Object.entries(files)
      .filter(([, file]) => !existsSync(file))
      .map(([name]) => name),
  ];
  if (missing.length > 0)
    throw new Error(`missing ${missing.join(', ')}: apt-get install -y ${missing.join(' ')}`);
}
