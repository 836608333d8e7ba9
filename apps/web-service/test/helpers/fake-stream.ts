/**
 * Fakes for StreamManager's unit tests: a camera link whose statuses and replies the test sets, and a
 * remuxer that writes real fMP4 (made by ffmpeg beforehand) as ffmpeg would.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CameraStatus, CommandEvent, ControlAction } from '@camstream/protocol';
import type { RemuxerExit, RemuxerOptions } from '../../src/ingest/remuxer.js';
import type { RemuxerLike } from '../../src/stream/stream-manager.js';
import { waitFor } from '../../../../test/helpers/wait.js';

/** The media a FakeSegmenter writes: an init segment and one fragment per frame. */
export interface FakeMedia {
  readonly init: Buffer;
  readonly fragments: readonly Buffer[];
}

const at = '2026-01-01T00:00:00Z';

export class FakeLink extends EventEmitter<{ status: [CameraStatus | null] }> {
  status: CameraStatus | null = { state: 'idle', at };
  connected = true;
  brokerUrl = 'mqtt://fake';
  readonly commands: { id: string; action: ControlAction; target?: string }[] = [];
  readonly #replies = new Map<string, (event: CommandEvent) => void>();

  publishCommand(action: ControlAction, target?: string): string {
    const id = `cmd-${this.commands.length + 1}`;
    this.commands.push({ id, action, ...(target !== undefined && { target }) });
    return id;
  }

  waitForReply(commandId: string, signal: AbortSignal): Promise<CommandEvent> {
    return new Promise((resolve, reject) => {
      this.#replies.set(commandId, resolve);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  reply(commandId: string, ok: boolean, message?: string): void {
    this.#replies.get(commandId)?.({ commandId, ok, ...(message !== undefined && { message }) });
  }

  setStatus(state: CameraStatus['state']): void {
    this.status = { state, at };
    this.emit('status', this.status);
  }
}

export class FakeSegmenter extends EventEmitter<{ died: [RemuxerExit]; media: [] }> implements RemuxerLike {
  readonly streamId: string;
  closed = false;
  #next = 0;
  #keyframes = 0;
  #resolveExit!: (exit: RemuxerExit) => void;
  readonly #exited = new Promise<RemuxerExit>((resolve) => (this.#resolveExit = resolve));

  constructor(
    readonly options: RemuxerOptions,
    readonly hlsDir: string,
    readonly media: FakeMedia,
  ) {
    super();
    this.streamId = options.streamId;
  }

  async start(): Promise<void> {}

  write(): void {}

  exited(): Promise<RemuxerExit> {
    return this.#exited;
  }

  async close(): Promise<RemuxerExit> {
    this.closed = true;
    const exit = { code: 0, signal: null, duringStart: false, requested: true, reason: '' };
    this.#resolveExit(exit);
    return exit;
  }

  /**
   * Writes frames to stdout (the init segment first) until `count` more segments of 1 s are
   * complete (a keyframe ends each), and waits until the playlist lists the last of them.
   */
  async writeSegments(count: number): Promise<void> {
    /** The newest segment of this run in the playlist (its media sequence number), or -1. */
    const listed = async () => {
      const playlist = await readFile(join(this.hlsDir, 'stream.m3u8'), 'utf8').catch(() => '');
      const ours = [...playlist.matchAll(new RegExp(`^${this.streamId}-(\\d+)\\.m4s$`, 'gm'))];
      return Math.max(-1, ...ours.map((match) => Number(match[1])));
    };
    const before = await listed();
    if (this.#next === 0) this.options.onMedia!(this.media.init);
    const target = this.#keyframes + count;
    while (this.#keyframes < target + 1) {
      const index = this.#next++;
      if (index % 30 === 0) this.#keyframes += 1;
      this.options.onMedia!(this.media.fragments[index]!);
      this.emit('media');
    }
    await waitFor('the segments listed', async () => (await listed()) >= before + count);
  }

  die(): void {
    const exit = { code: 1, signal: null, duringStart: false, requested: false, reason: 'boom' };
    this.#resolveExit(exit);
    this.emit('died', exit);
  }
}
