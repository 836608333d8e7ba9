/**
 * Suites that need ffmpeg or Mosquitto skip loudly when a tool is missing on a developer's machine,
 * and fail under CI (`CI=true`), where a skipped suite would hide a broken install.
 */
import { execFileSync } from 'node:child_process';

function available(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function haveTools(...tools: string[]): boolean {
  const missing = tools.filter((tool) => !available(tool));
  if (missing.length === 0) return true;
  const message = `missing ${missing.join(', ')}: install them to run this suite`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must not skip it`);
  console.warn(`\n*** SKIPPING: ${message} ***\n`);
  return false;
}
