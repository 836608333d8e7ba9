/**
 * Counts a process's log lines that match, as they are written (the kept output of a managed process
 * is cut when it grows large, and a flood of ffmpeg warnings makes it grow).
 */
import type { ChildProcess } from 'node:child_process';

export interface LineCounter<K extends string> {
  readonly counts: Readonly<Record<K, number>>;
  /** The last matching line of each kind, for messages. */
  readonly last: Readonly<Partial<Record<K, string>>>;
  stop(): void;
}

export function countLines<K extends string>(
  proc: ChildProcess,
  patterns: Record<K, RegExp>,
): LineCounter<K> {
  const counts = Object.fromEntries(Object.keys(patterns).map((key) => [key, 0])) as Record<K, number>;
  const last: Partial<Record<K, string>> = {};
  let partial = '';
  const onData = (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      for (const key of Object.keys(patterns) as K[]) {
        if (patterns[key].test(line)) {
          counts[key] += 1;
          last[key] = line.slice(0, 500);
        }
      }
    }
  };
  const streams = [proc.stdout, proc.stderr].filter((stream) => stream !== null);
  for (const stream of streams) stream.on('data', onData);
  return {
    counts,
    last,
    stop: () => streams.forEach((stream) => stream.off('data', onData)),
  };
}
