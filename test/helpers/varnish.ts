/**
 * The caching edge as a user runs it: Debian's varnishd with infra/edge/varnish.vcl, its backend
 * pointed at the service under test, on a free loopback port, with its own work folder (-n) under a
 * temporary folder; stopped (and the folder removed) by the cleanup.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Cleanup } from './cleanup.js';
import { tempDir } from './temp-dir.js';
import { freeTcpPort } from './ports.js';
import { ROOT } from './system.js';
import { GiveUp, waitFor } from './wait.js';

export const EDGE_VCL = join(ROOT, 'infra/edge/varnish.vcl');

export interface Varnish {
  readonly baseUrl: string;
  /** varnishd's manager process (the worker is its child). */
  readonly pid: number;
  /** varnishstat's counters (MAIN.backend_req: requests sent to the service, MAIN.client_req: …). */
  counters(): Promise<Record<string, number>>;
  output(): string;
}

/** The shipped VCL with its backend moved to `originPort` (the one line a user edits too). */
export async function edgeVcl(originPort: number): Promise<string> {
  const vcl = await readFile(EDGE_VCL, 'utf8');
  const moved = vcl.replace(/(\.port = )"8080";/, `$1"${originPort}";`);
  if (moved === vcl) throw new Error(`${EDGE_VCL}: no backend .port = "8080"; to point at the service`);
  return moved;
}

/** As infra/edge/varnish.service.conf runs it (less memory). */
const PARAMETERS = ['-s', 'malloc,256m', '-p', 'rush_exponent=8'];

export async function startVarnish(cleanup: Pick<Cleanup, 'add'>, originPort: number): Promise<Varnish> {
  const dir = await tempDir(cleanup, 'camstream-test-varnish-');
  const vclPath = join(dir, 'camstream.vcl');
  await writeFile(vclPath, await edgeVcl(originPort));
  const workDir = join(dir, 'work');
  const port = await freeTcpPort();
  // -F: in the foreground, our child; -j none: no privilege separation, so it runs as whoever runs
  // the tests and writes only under `dir`.
  const proc = spawn(
    'varnishd',
    ['-F', '-j', 'none', '-n', workDir, '-a', `127.0.0.1:${port}`, '-f', vclPath, ...PARAMETERS],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-50_000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  cleanup.add(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(`varnishd on ${baseUrl}\n${output}`, async () => {
    if (proc.exitCode !== null) throw new GiveUp(`varnishd exited:\n${output}`);
    try {
      return (await fetch(`${baseUrl}/api/stream`)).status < 500;
    } catch {
      return false;
    }
  });
  return {
    baseUrl,
    pid: proc.pid!,
    output: () => output,
    async counters() {
      const { stdout } = await promisify(execFile)('varnishstat', ['-n', workDir, '-1', '-j']);
      const parsed = JSON.parse(stdout) as {
        counters?: Record<string, { value: number }>;
      } & Record<string, { value: number } | unknown>;
      const entries = parsed.counters ?? parsed;
      const counters: Record<string, number> = {};
      for (const [name, entry] of Object.entries(entries)) {
        if (typeof entry === 'object' && entry !== null && 'value' in entry)
          counters[name] = Number((entry as { value: number }).value);
      }
      return counters;
    },
  };
}
