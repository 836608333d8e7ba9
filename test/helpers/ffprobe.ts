/**
 * ffprobe, the outside judge of what we write and serve: one place that runs it at `-v error` with
 * JSON out (`-of json`) on a file or URL, or on bytes fed to its stdin, and parses what it prints.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The parts of ffprobe's JSON the suites read: values as ffprobe prints them (often strings). */
export interface FfprobeJson {
  streams?: Record<string, string | number | undefined>[];
  packets?: Record<string, string | number | undefined>[];
  format?: Record<string, string | number | undefined>;
}

/** A file or URL, or the bytes themselves (fed on ffprobe's stdin). */
export type FfprobeInput = string | Buffer;

function named(input: FfprobeInput): string {
  return typeof input === 'string' ? input : `${input.length} bytes on stdin`;
}

export interface FfprobeOptions {
  timeoutMs?: number;
  /** For large outputs, such as every packet of a long recording. */
  maxBuffer?: number;
}

export interface Ffprobed<T> {
  readonly json: T;
  /** What ffprobe printed at `-v error`, trimmed: nothing, for a clean read. */
  readonly stderr: string;
}

/** `ffprobe -v error <args> -of json <input>`: the parsed JSON and what it printed on stderr. */
export async function ffprobe<T = FfprobeJson>(
  input: FfprobeInput,
  args: readonly string[],
  { timeoutMs = 30_000, maxBuffer = 16 * 1024 * 1024 }: FfprobeOptions = {},
): Promise<Ffprobed<T>> {
  const bytes = typeof input === 'string' ? undefined : input;
  const target = typeof input === 'string' ? input : '-';
  const child = execFileAsync('ffprobe', ['-v', 'error', ...args, '-of', 'json', target], {
    timeout: timeoutMs,
    maxBuffer,
  });
  if (bytes) child.child.stdin!.end(bytes);
  const { stdout, stderr } = await child.catch((error: Error & { stderr?: string }) => {
    throw new Error(`ffprobe failed on ${named(input)}: ${error.message}\n${error.stderr ?? ''}`);
  });
  return { json: JSON.parse(stdout) as T, stderr: stderr.trim() };
}

/** ffprobe's JSON for `input` (see `ffprobe`), when what it prints on stderr does not matter. */
export async function ffprobeJson<T = FfprobeJson>(
  input: FfprobeInput,
  args: readonly string[],
  options?: FfprobeOptions,
): Promise<T> {
  return (await ffprobe<T>(input, args, options)).json;
}

/** The first video stream's `entries` (e.g. `codec_name,width,height`); throws when there is none. */
export async function probeVideoStream<T = { codec_name: string; width: number; height: number }>(
  input: FfprobeInput,
  entries = 'codec_name,width,height',
  options?: FfprobeOptions,
): Promise<T> {
  const args = ['-select_streams', 'v:0', '-show_entries', `stream=${entries}`];
  const { streams } = await ffprobeJson<{ streams?: T[] }>(input, args, options);
  if (!streams?.[0]) throw new Error(`ffprobe found no video stream in ${named(input)}`);
  return streams[0];
}

/** The container's duration, seconds (`format=duration`). */
export async function probeDuration(input: FfprobeInput, options?: FfprobeOptions): Promise<number> {
  const { format } = await ffprobeJson<{ format: { duration: string } }>(
    input,
    ['-show_entries', 'format=duration'],
    options,
  );
  return Number(format.duration);
}
