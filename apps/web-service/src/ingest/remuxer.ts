/**
 * The remuxer: one ffmpeg process per run, the camera's MPEG-TS in on stdin (from the UDP ingest),
 * fragmented MP4 out on stdout, one fragment per frame, no re-encode; the media reader parses it once
 * and the fan-out hands it to every output (outputs/). The only module that
 * imports fluent-ffmpeg (archived upstream, so its use is kept small: build the command, `run()`,
 * the `start`/`stderr`/`error` events and the child process it spawns).
 *
 * Owned like a mediasoup Worker: explicit options, stderr lines to the logger, `start()` rejects if
 * ffmpeg exits while starting and `died` is emitted if it exits later, `close()` is idempotent and
 * escalates end of input → SIGTERM → SIGKILL, and methods called after `close()` throw InvalidStateError.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { FastifyBaseLogger } from 'fastify';
import ffmpeg from 'fluent-ffmpeg';
import { createError, InvalidStateError } from '../errors.js';
import { LogBudget } from '../log-budget.js';

export interface RemuxerOptions {
  readonly ffmpegPath: string;
  /** Unique per run; names the outputs' segments (outputs/names.ts). */
  readonly streamId: string;
  /** ffmpeg's stdout, as it comes (to the run's media reader). May throw: the run is then useless. */
  readonly onMedia?: (chunk: Buffer) => void;
  readonly logger: FastifyBaseLogger;
  /** How long the end of input, then SIGTERM, may take before the next step. */
  readonly quitTimeoutMs?: number;
  readonly termTimeoutMs?: number;
  /**
   * Other work on the same pipes (outputs/pictures/: decode to JPEG, remux to MPEG-TS): the input
   * and output options instead of the remuxer's; the input is stdin and the output stdout unless
   * paths are given (outputs/recordings/mp4.ts: a recording's playlist to one MP4 file).
   */
  readonly arguments?: {
    readonly input: string[];
    readonly output: string[];
    readonly inputPath?: string;
    readonly outputPath?: string;
  };
}

export interface RemuxerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Exited before `start()` resolved ("failed while starting") rather than later. */
  readonly duringStart: boolean;
  /** `close()` asked for it. */
  readonly requested: boolean;
  /** ffmpeg's last error lines, for messages. */
  readonly reason: string;
}

interface RemuxerEvents {
  /** ffmpeg exited on its own after `start()` resolved. */
  died: [RemuxerExit];
  /** ffmpeg wrote media (a frame's fragment). */
  media: [];
}

/**
 * The input: MPEG-TS on stdin, written by the ingest (ingest/), which begins it at a keyframe with
 * PAT, PMT, SPS and PPS. (ffmpeg reads no keyboard commands from a pipe: `pipe:` turns them off.)
 */
export const SEGMENTER_INPUT = 'pipe:0';

/**
 * How the remuxer probes: one packet (ffmpeg's defaults, 5 MB / 5 s, would hold the first frame back
 * by seconds). ffmpeg's MPEG-TS
 * demuxer never ends a probe early (streams may appear later), so it reads until `-probesize` bytes or
 * `-analyzeduration` of media, and the mp4 muxer needs the picture size and SPS/PPS before it writes
 * its init segment. The ingest begins every run at a keyframe with its SPS/PPS, so the first packet
 * has them: the input is probed ~70 ms after it (`npm run bench`: "first datagram → probed its
 * input"), also when a run joins a running stream (it used to probe 1.5 s of it, more than a GOP).
 */
export const FMP4_PROBE_OPTIONS = ['-probesize', '32', '-analyzeduration', '0'] as const;

/** fMP4 for the outputs: `-c copy`, an empty moov first, one moof + mdat per frame, flushed at once. */
export const FMP4_OUTPUT_OPTIONS = [
  ...['-c', 'copy', '-f', 'mp4'],
  ...['-movflags', 'empty_moov+default_base_moof+frag_every_frame+skip_trailer', '-flush_packets', '1'],
] as const;

/** What the segmenter's stdin may hold unread before input is dropped (ffmpeg stuck): ≈ 16 s. */
const MAX_INPUT_BACKLOG = 4 * 1024 * 1024;

export function remuxerArguments(): { input: string[]; output: string[] } {
  return {
    input: ['-hide_banner', '-nostats', '-loglevel', 'level+info', ...FMP4_PROBE_OPTIONS, '-f', 'mpegts'],
    output: [...FMP4_OUTPUT_OPTIONS],
  };
}

const execFileAsync = promisify(execFile);

type Phase = 'new' | 'starting' | 'running' | 'exited';

export class FfmpegRemuxer extends EventEmitter<RemuxerEvents> {
  readonly streamId: string;
  readonly #options: RemuxerOptions;
  readonly #log: FastifyBaseLogger;
  #phase: Phase = 'new';
  #closeRequested = false;
  #proc: ChildProcess | undefined;
  #inputDropped = 0;
  #errorLines: string[] = [];
  readonly #logBudget = new LogBudget(10, 10_000);
  #exit: RemuxerExit | undefined;
  readonly #exited: Promise<RemuxerExit>;
  #resolveExited!: (exit: RemuxerExit) => void;
  readonly #killOnExit = () => this.#proc?.kill('SIGKILL');

  constructor(options: RemuxerOptions) {
    super();
    this.#options = options;
    this.streamId = options.streamId;
    this.#log = options.logger.child({ segmenter: options.streamId });
    this.#exited = new Promise((resolve) => (this.#resolveExited = resolve));
  }

  get closed(): boolean {
    return this.#closeRequested;
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** Set once ffmpeg has exited (or `close()` was called before `start()`). */
  get exit(): RemuxerExit | undefined {
    return this.#exit;
  }

  /** Resolves when ffmpeg has exited, however that happened. */
  exited(): Promise<RemuxerExit> {
    return this.#exited;
  }

  /**
   * Spawns ffmpeg and resolves once it runs, reading its stdin. It cannot know more: whether the
   * camera sends, and when the playlist becomes playable, is the output's business.
   */
  async start(): Promise<void> {
    if (this.#closeRequested) throw new InvalidStateError('the segmenter is closed');
    if (this.#phase !== 'new') throw new InvalidStateError('the segmenter was started already');
    this.#phase = 'starting';
    try {
      await verifyExecutable(this.#options.ffmpegPath);
      await this.#spawn();
    } catch (err) {
      if (this.#proc) {
        this.#proc.kill('SIGKILL');
      } else {
        this.#errorLines.push((err as Error).message);
        this.#onExit(null, null);
      }
      const exit = await this.#exited;
      if (this.#closeRequested) throw new InvalidStateError('the segmenter was closed while starting');
      const reason = exit.reason || (err as Error).message;
      throw createError('WEB_ERR_SEGMENTER_FAILED', `ffmpeg did not start: ${reason}`);
    }
    if (this.#closeRequested) throw new InvalidStateError('the segmenter was closed while starting');
    this.#phase = 'running';
    this.#log.info({ pid: this.pid }, 'segmenter running');
  }

  /**
   * The camera's stream, as it arrives: on to ffmpeg's stdin at once. Dropped (and counted) if
   * ffmpeg does not keep up at all; nothing is written before start() resolved or after close().
   */
  write(chunk: Buffer): void {
    const stdin = this.#proc?.stdin;
    if (this.#phase !== 'running' || this.#closeRequested || !stdin?.writable) return;
    if (stdin.writableLength > MAX_INPUT_BACKLOG) {
      if (this.#inputDropped++ === 0) this.#log.warn('ffmpeg does not read its input: dropping it');
      return;
    }
    stdin.write(chunk);
  }

  #spawn(): Promise<void> {
    const args: NonNullable<RemuxerOptions['arguments']> = this.#options.arguments ?? remuxerArguments();
    const { input, output, inputPath, outputPath } = args;
    const command = ffmpeg({ stdoutLines: 20 })
      .setFfmpegPath(this.#options.ffmpegPath)
      .input(inputPath ?? SEGMENTER_INPUT)
      .inputOptions(input)
      .output(outputPath ?? this.#mediaSink())
      .outputOptions(output);
    return new Promise((resolve, reject) => {
      command.on('start', (commandLine: string) => {
        // fluent-ffmpeg keeps the child in an undocumented property (not in @types/fluent-ffmpeg).
        const proc = (command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
        if (!proc?.pid) return; // spawn failed: fluent-ffmpeg reports it through 'error'
        this.#proc = proc;
        this.#log.debug({ pid: proc.pid, commandLine }, 'ffmpeg spawned');
        proc.stdin?.on('error', () => {}); // EPIPE on a write after ffmpeg exited is harmless
        proc.once('close', (code, signal) => this.#onExit(code, signal));
        process.once('exit', this.#killOnExit); // stdin closes with us anyway; this is quicker
        if (this.#closeRequested) proc.kill('SIGTERM');
        resolve();
      });
      command.on('stderr', (line: string) => this.#onStderr(line));
      // Emitted for a failed capability check or spawn, and on every non-zero exit, including the
      // ones close() causes; the exit itself is handled through the child's 'close' event.
      command.on('error', (err: Error) => {
        this.#log.debug({ err: err.message }, 'fluent-ffmpeg reported an error');
        if (!this.#proc) reject(err); // never spawned: start() records the exit
      });
      command.run();
    });
  }

  /**
   * Where fMP4 from stdout goes: fluent-ffmpeg pipes stdout into this stream (and does not also read
   * it as text lines, as it does for a `pipe:1` string). A chunk the media reader cannot read fails the
   * stream, and fluent-ffmpeg then kills ffmpeg: that run is useless, and its exit is reported as usual.
   */
  #mediaSink(): Writable {
    const onMedia = this.#options.onMedia ?? (() => {});
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        try {
          onMedia(chunk);
          this.emit('media');
          callback();
        } catch (err) {
          this.#errorLines = [...this.#errorLines.slice(-2), `unreadable output: ${(err as Error).message}`];
          this.#log.error({ err }, 'segmenter output unreadable: stopping ffmpeg');
          callback(err as Error);
        }
      },
    });
  }

  #onStderr(line: string): void {
    const level = /\[(panic|fatal|error|warning|info|verbose|debug)\]/.exec(line)?.[1] ?? 'info';
    const text = line.replace(/\[(panic|fatal|error|warning|info|verbose|debug)\] /, '').trim();
    if (text === '') return;
    if (this.#closeRequested) {
      // Stopping: "Immediate exit requested" and trailer errors are what a signal looks like.
      this.#log.debug({ ffmpeg: text }, 'ffmpeg while stopping');
    } else if (level === 'panic' || level === 'fatal' || level === 'error' || level === 'warning') {
      const error = level !== 'warning';
      if (error) this.#errorLines = [...this.#errorLines.slice(-2), text];
      // A damaged stream is a warning per packet: a budget keeps the log readable.
      const { log, suppressedBefore } = this.#logBudget.spend();
      if (suppressedBefore > 0) {
        this.#log.warn({ suppressed: suppressedBefore }, 'ffmpeg: more warnings and errors, not logged');
      }
      if (log && error) this.#log.error({ ffmpeg: text }, 'ffmpeg error');
      else if (log) this.#log.warn({ ffmpeg: text }, 'ffmpeg warning');
    } else if (/^Stream #0:\d+/.test(text)) {
      this.#log.info({ ffmpeg: text }, 'segmenter input');
    } else {
      this.#log.debug({ ffmpeg: text });
    }
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#phase === 'exited') return;
    const duringStart = this.#phase !== 'running';
    this.#phase = 'exited';
    process.removeListener('exit', this.#killOnExit);
    const exit: RemuxerExit = {
      code,
      signal,
      duringStart,
      requested: this.#closeRequested,
      reason: this.#errorLines.join('; ') || (signal ? `killed by ${signal}` : `exit code ${code}`),
    };
    this.#exit = exit;
    this.#resolveExited(exit);
    if (exit.requested) {
      this.#log.info({ code, signal }, 'segmenter stopped');
    } else if (!duringStart) {
      this.#log.error({ code, signal, reason: exit.reason }, 'segmenter died');
      this.emit('died', exit);
    }
  }

  /**
   * Stops ffmpeg: the end of its input (it finishes the last segment or fragment and exits, ~50 ms),
   * then SIGTERM twice, then SIGKILL. Resolves on its exit. (SIGTERM twice: fftools' interrupt
   * callback breaks a blocking read only on the second signal; decode_interrupt_cb in
   * fftools/ffmpeg.c.)
   */
  close(): Promise<RemuxerExit> {
    if (this.#closeRequested) return this.#exited;
    this.#closeRequested = true;
    const proc = this.#proc;
    if (this.#phase === 'new' || (this.#phase === 'starting' && !proc)) {
      // Not spawned yet: nothing to stop; a spawn in progress is killed by the 'start' handler.
      if (this.#phase === 'new') this.#onExit(null, null);
      return this.#exited;
    }
    if (this.#phase === 'exited' || !proc) return this.#exited;

    const { quitTimeoutMs = 300, termTimeoutMs = 3000 } = this.#options;
    const timers: NodeJS.Timeout[] = [];
    const kill = (signal: NodeJS.Signals) => {
      if (this.#phase !== 'exited') {
        this.#log.debug({ signal }, 'stopping ffmpeg');
        proc.kill(signal);
      }
    };
    const terminate = () => {
      kill('SIGTERM');
      timers.push(setTimeout(() => kill('SIGTERM'), 200));
      timers.push(setTimeout(() => kill('SIGKILL'), termTimeoutMs));
    };
    if (proc.stdin?.writable) {
      proc.stdin.end();
      timers.push(setTimeout(terminate, quitTimeoutMs));
    } else {
      terminate();
    }
    void this.#exited.then(() => timers.forEach(clearTimeout));
    return this.#exited;
  }
}

const verifiedPaths = new Set<string>();

/**
 * Runs `ffmpeg -version` once per path. fluent-ffmpeg 2.1.3 throws an uncaught TypeError when its
 * main spawn fails (processor.js `endCB` reads output rings that were never made; no upstream fix,
 * the project is archived), so a missing executable must be caught before `run()`.
 */
async function verifyExecutable(ffmpegPath: string): Promise<void> {
  if (verifiedPaths.has(ffmpegPath)) return;
  try {
    await execFileAsync(ffmpegPath, ['-hide_banner', '-version'], { timeout: 10_000 });
  } catch (err) {
    throw new Error(`cannot run ${ffmpegPath}: ${(err as Error).message}`, { cause: err });
  }
  verifiedPaths.add(ffmpegPath);
}

/**
 * fluent-ffmpeg checks formats and encoders by running `ffmpeg -formats` and `-encoders` before the
 * first command and caches the answer. Doing it at boot keeps that off the first start's path, and
 * reports a missing ffmpeg early.
 */
export async function warmUpFfmpeg(ffmpegPath: string): Promise<void> {
  await verifyExecutable(ffmpegPath);
  // setFfmpegPath sets fluent-ffmpeg's process-wide path; the service only ever uses one.
  const command = ffmpeg().setFfmpegPath(ffmpegPath);
  return new Promise((resolve, reject) => {
    command.getAvailableFormats((formatsError) => {
      if (formatsError) return reject(formatsError);
      command.getAvailableEncoders((encodersError) => (encodersError ? reject(encodersError) : resolve()));
    });
  });
}
