/**
 * LL-HLS as an output of the camera's fan-out: each run's init and frames go to the packager, which
 * cuts and serves them from memory (routes/hls.ts). Synchronous: the fan-out delivers to it without a
 * queue, as the frames arrive. Gaps are found by the cutter itself, from the frames' timing.
 */
import type { MediaFrame, MediaInit, MediaRun, PlayableOutput } from '../output.js';
import type { LlHlsPackager } from './packager.js';

export class LlHlsOutput implements PlayableOutput {
  readonly name = 'll-hls';
  readonly mode = 'll';
  readonly packager: LlHlsPackager;

  constructor(packager: LlHlsPackager) {
    this.packager = packager;
  }

  /**
   * At the remuxer's spawn, before its first byte: the previous run's open segment is closed and the
   * playlist's EXT-X-PRELOAD-HINT names the new run's first part at once, so it never lacks one.
   */
  begin({ streamId, restart }: MediaRun): void {
    this.packager.beginRun(streamId, { discontinuity: restart });
  }

  init(init: MediaInit): void {
    this.packager.init(init);
  }

  frame(frame: MediaFrame): void {
    this.packager.frame(frame);
  }

  gap(): void {
    // The cutter sees a pause in the frames' timing (or in their arrival) and cuts a discontinuity.
  }

  end(): void {
    // The next run's `begin` closes the open segment (or a stop's `clear` drops it): ended here, the
    // playlist would briefly hint no next part.
  }

  async clear(): Promise<void> {
    this.packager.clear();
  }

  /** Held playlist and part requests answer now. */
  refuseNewWork(): void {
    this.packager.clear();
  }

  waitUntilPlayable(streamId: string, signal: AbortSignal): Promise<void> {
    return this.packager.waitUntilPlayable(streamId, signal);
  }
}
