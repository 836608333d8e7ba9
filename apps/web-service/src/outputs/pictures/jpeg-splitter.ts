/**
 * Cuts ffmpeg's `image2pipe` MJPEG output into whole JPEG pictures: each runs from SOI (FF D8) to
 * EOI (FF D9). Inside the entropy-coded data an FF byte is always followed by 00 or a restart
 * marker, so the first FF D9 after an SOI ends the picture (ffmpeg's encoder writes no thumbnail).
 */
const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

export class JpegSplitter {
  #pending: Buffer = Buffer.alloc(0);
  readonly #maxBytes: number;

  constructor({ maxBytes = 8 * 1024 * 1024 }: { maxBytes?: number } = {}) {
    this.#maxBytes = maxBytes;
  }

  /** The pictures this chunk completes. */
  push(chunk: Buffer): Buffer[] {
    let data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const pictures: Buffer[] = [];
    for (;;) {
      const start = data.indexOf(SOI);
      if (start < 0) {
        // Nothing to keep but a last FF: it may be the first half of the next SOI.
        data = data.at(-1) === 0xff ? data.subarray(-1) : Buffer.alloc(0);
        break;
      }
      const end = data.indexOf(EOI, start + 2);
      if (end < 0) {
        data = data.subarray(start);
        break;
      }
      pictures.push(Buffer.from(data.subarray(start, end + 2)));
      data = data.subarray(end + 2);
    }
    // A picture larger than any JPEG we make: garbage, dropped rather than held.
    this.#pending = data.length > this.#maxBytes ? Buffer.alloc(0) : data;
    return pictures;
  }
}
