/**
 * Suites that need a system tool (ffmpeg, Mosquitto, Chromium) skip loudly when it is missing on a
 * developer's machine, and fail under CI (`CI=true`), where a skipped suite would hide a broken install.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function available(tool: string): boolean {
  if (tool.startsWith('/')) return existsSync(tool);
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when every tool is there; otherwise throws under CI, or warns and returns false. */
export function haveTools(...tools: string[]): boolean {
  const missing = tools.filter((tool) => !available(tool));
  if (missing.length === 0) return true;
  const message = `missing ${missing.join(', ')}: install them (npm test does) to run this suite`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must not skip it`);
  console.warn(`\n*** SKIPPING: ${message} ***\n`);
  return false;
}
