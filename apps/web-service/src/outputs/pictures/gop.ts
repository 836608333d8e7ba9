/**
 * The camera's latest group of pictures: the run's init segment and the frames since the newest
 * keyframe, all that a decoder needs for the newest picture (snapshots) or to start at once (MJPEG,
 * stream.ts). Bounded: a GOP longer than `maxBytes` is cut (its head kept, so it still decodes) and
 * the newest pictures then wait for the next keyframe. Kept after the stream stops, for the last
 * snapshot.
 */
import type { MediaFrame, MediaInit } from '../output.js';

export class GopBuffer {
  readonly #maxBytes: number;
  #init: MediaInit | undefined;
  #frames: MediaFrame[] = [];
  #bytes = 0;
  /** Changes with every init and every frame kept: the picture a decode of `media()` would show. */
  #version = 0;
  #lastFrameAt: Date | undefined;

  constructor({ maxBytes = 16 * 1024 * 1024 }: { maxBytes?: number } = {}) {
    this.#maxBytes = maxBytes;
  }

  init(init: MediaInit): void {
    this.#init = init;
    this.#frames = [];
    this.#bytes = 0;
    this.#version += 1;
  }

  frame(frame: MediaFrame, at: Date): void {
    if (!this.#init) return;
    if (frame.keyframe) {
      this.#frames = [];
      this.#bytes = 0;
    } else if (this.#frames.length === 0 || this.#bytes + frame.bytes.length > this.#maxBytes) {
      return; // no keyframe to decode it from, or the GOP is too long to hold
    }
    this.#frames.push(frame);
    this.#bytes += frame.bytes.length;
    this.#version += 1;
    this.#lastFrameAt = at;
  }

  get version(): number {
    return this.#version;
  }

  /** When the newest kept frame came. */
  get lastFrameAt(): Date | undefined {
    return this.#lastFrameAt;
  }

  get frameCount(): number {
    return this.#frames.length;
  }

  /** Init and frames from the newest keyframe, as fMP4 bytes; undefined before a keyframe. */
  media(): { readonly chunks: readonly Buffer[]; readonly frames: number } | undefined {
    if (!this.#init || this.#frames.length === 0) return undefined;
    return { chunks: [this.#init.bytes, ...this.#frames.map((f) => f.bytes)], frames: this.#frames.length };
  }
}
