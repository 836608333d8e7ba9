/**
 * Real fragmented MP4 for the LL-HLS unit tests, made by ffmpeg the way the segmenter makes it (one
 * moof + mdat per frame), from the same kind of picture the camera's test source sends: lavfi's
 * testsrc2 through libx264 (ultrafast, zerolatency, a keyframe every `gop` frames).
 */
import { execFile, spawn } from 'node:child_process';
import { remuxerArguments } from '../../src/ingest/remuxer.js';

export interface Fmp4Options {
  readonly seconds: number;
  readonly fps?: number;
  readonly gop?: number;
  /** Default: the segmenter's flags, skip_trailer included. */
  readonly movflags?: string;
  /** ffmpeg's -force_key_frames, e.g. the agent's `expr:eq(n,6)` (a second keyframe 0.2 s in). */
  readonly forceKeyFrames?: string;
  /** An ffmpeg setpts expression for the frames' timestamps, e.g. a jump as a network drop leaves. */
  readonly setpts?: string;
}

export const SEGMENTER_MOVFLAGS = 'empty_moov+default_base_moof+frag_every_frame+skip_trailer';

/** The test source's frames through libx264, muxed by `output` (format options) to ffmpeg's stdout. */
function encode(
  { seconds, fps = 30, gop = 30, forceKeyFrames, setpts }: Fmp4Options,
  output: readonly string[],
): Promise<Buffer> {
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...[
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=320x240:rate=${fps}`,
      '-frames:v',
      String(Math.round(seconds * fps)),
    ],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
    ...['-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-b:v', '1M'],
    ...(forceKeyFrames ? ['-force_key_frames', forceKeyFrames] : []),
    ...(setpts ? ['-vf', `setpts=${setpts}`, '-fps_mode', 'passthrough'] : []),
    ...output,
    'pipe:1',
  ];
  return new Promise((resolve, reject) => {
    execFile(
      'ffmpeg',
      args,
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`ffmpeg could not encode: ${error.message}\n${stderr.toString()}`));
        else resolve(stdout);
      },
    );
  });
}

/** Encodes `seconds` of video into fMP4 on ffmpeg's stdout; small frames, so it takes a moment. */
export function encodeFmp4(options: Fmp4Options): Promise<Buffer> {
  return encode(options, ['-f', 'mp4', '-movflags', options.movflags ?? SEGMENTER_MOVFLAGS]);
}

/**
 * The camera's MPEG-TS with a hole (the TS packets between fractions `hole[0]` and `hole[1]` of the
 * stream never came, as in a network cut), remuxed by ffmpeg with the remuxer's own arguments: the
 * fMP4 the outputs get when the video comes back.
 */
export async function remuxWithHole(options: Fmp4Options & { hole: [number, number] }): Promise<Buffer> {
  const ts = await encode(options, ['-f', 'mpegts']);
  const packets = ts.length / 188;
  const [from, to] = options.hole.map((fraction) => Math.round(fraction * packets) * 188);
  const { input, output } = remuxerArguments();
  const remuxer = spawn('ffmpeg', [...input, '-i', 'pipe:0', ...output, 'pipe:1'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const chunks: Buffer[] = [];
  remuxer.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  remuxer.stdin.end(Buffer.concat([ts.subarray(0, from), ts.subarray(to)]));
  const code = await new Promise((resolve) => remuxer.once('close', resolve));
  if (code !== 0) throw new Error(`the remuxer exited with ${String(code)}`);
  return Buffer.concat(chunks);
}

export interface TopLevelBox {
  readonly type: string;
  readonly bytes: Buffer;
}

/** The top-level boxes, read with nothing from the code under test (32-bit sizes are all ffmpeg writes here). */
export function topLevelBoxes(data: Buffer): TopLevelBox[] {
  const boxes: TopLevelBox[] = [];
  for (let offset = 0; offset < data.length;) {
    const size = data.readUInt32BE(offset);
    if (size < 8 || offset + size > data.length) throw new Error(`bad box size ${size} at ${offset}`);
    boxes.push({
      type: data.toString('latin1', offset + 4, offset + 8),
      bytes: data.subarray(offset, offset + size),
    });
    offset += size;
  }
  return boxes;
}

/** The init segment (ftyp + moov) and the fragments (moof + mdat), as ffmpeg wrote them. */
export function splitFmp4(data: Buffer): { init: Buffer; fragments: Buffer[] } {
  const boxes = topLevelBoxes(data);
  const init: Buffer[] = [];
  const fragments: Buffer[] = [];
  let moof: Buffer | undefined;
  for (const box of boxes) {
    if (box.type === 'ftyp' || box.type === 'moov') init.push(box.bytes);
    else if (box.type === 'moof') moof = box.bytes;
    else if (box.type === 'mdat' && moof) {
      fragments.push(Buffer.concat([moof, box.bytes]));
      moof = undefined;
    }
  }
  return { init: Buffer.concat(init), fragments };
}
