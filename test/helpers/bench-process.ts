/** A bench's npm script run as a user runs it, for the benches' smoke tests. */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { tempDir, type useCleanup } from './cleanup.js';
import { ROOT } from './system.js';

/**
 * `npm run <script> -- <args>` in its own process group: one SIGTERM at cleanup stops npm, tsx and the
 * bench, which tears down everything it started. Resolves with the exit code and everything printed.
 */
export function runBenchScript(
  script: string,
  args: readonly string[],
  cleanup: ReturnType<typeof useCleanup>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  cleanup.add(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

/** The bench's temporary folders now (`camstream-<bench>-…` in the system's temporary directory). */
const tempFolders = async (bench: string) =>
  new Set((await readdir(tmpdir())).filter((name) => name.startsWith(`camstream-${bench}-`)));

/**
 * For a bench's smoke run: an output folder for `--out` (removed at cleanup), and `leftBehind()`, the
 * bench's temporary folders made since this call and still there (a bench that tidies up leaves none).
 */
export async function smokeFolders(
  bench: string,
  cleanup: ReturnType<typeof useCleanup>,
): Promise<{ out: string; leftBehind(): Promise<string[]> }> {
  const out = await tempDir(cleanup, `camstream-smoke-${bench}-out-`);
  const before = await tempFolders(bench);
  return {
    out,
    leftBehind: async () => [...(await tempFolders(bench))].filter((name) => !before.has(name)),
  };
}
