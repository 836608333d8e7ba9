/**
 * The service's CPU profile (V8's .cpuprofile, written by cpu-profile.mjs when it stops) boiled
 * down for the report: self time per function, as a share of the busy samples (idle left out), the
 * busiest first, with where each function is (a package's name, or our file).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileEntry {
  name: string;
  where: string;
  /** % of busy samples spent in the function itself. */
  selfPercent: number;
}

export interface ProfileSummary {
  file: string;
  /** % of the samples the thread was busy. */
  busyPercent: number;
  top: ProfileEntry[];
}

/** `node:internal/…` stays; a package's path becomes its name; our files are shown from apps/. */
function where(url: string): string {
  if (url === '') return '';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const apps = url.indexOf('/apps/');
  return apps >= 0 ? url.slice(apps + 1) : url.replace(/^file:\/\//, '');
}

export function summarizeProfile(profile: { nodes: ProfileNode[] }, file: string, top = 15): ProfileSummary {
  const self = new Map<string, ProfileEntry & { hits: number }>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const name = node.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += hits;
      continue;
    }
    const at = where(node.callFrame.url);
    const key = `${name}\u0000${at}`;
    const entry = self.get(key) ?? { name, where: at, selfPercent: 0, hits: 0 };
    entry.hits += hits;
    self.set(key, entry);
  }
  const busy = total - idle;
  const entries = [...self.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map(({ name, where: at, hits }) => ({
      name,
      where: at,
      selfPercent: busy > 0 ? (hits / busy) * 100 : 0,
    }));
  return { file, busyPercent: total > 0 ? (busy / total) * 100 : 0, top: entries };
}

/** The one profile a profiled service left in `dir` (undefined when it wrote none: killed, not stopped). */
export async function readProfile(dir: string): Promise<ProfileSummary | undefined> {
  const files = (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length === 0) return undefined;
  const path = join(dir, files.sort().at(-1)!);
  return summarizeProfile(JSON.parse(await readFile(path, 'utf8')) as { nodes: ProfileNode[] }, path);
}
