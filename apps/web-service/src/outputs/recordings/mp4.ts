/**
 * A recording as one MP4 file with its moov first (faststart), for a download: ffmpeg remuxes the
 * recording's playlist (`-c copy`: no decoding) into a temporary file, through the remuxer's process
 * owner (ingest/remuxer.ts, the one module that spawns ffmpeg). faststart rewrites the file once
 * written, so the output cannot be a pipe; the caller streams the file and removes it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { createError } from '../../errors.js';
import { FfmpegRemuxer } from '../../ingest/remuxer.js';

export interface Mp4File {
  readonly path: string;
  /** Removes the file and its folder. */
  remove(): Promise<void>;
}

export function mp4Arguments(playlistPath: string, outputPath: string) {
  return {
    input: ['-hide_banner', '-nostats', '-nostdin', '-loglevel', 'level+warning'],
    inputPath: playlistPath,
    output: ['-map', '0', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4'],
    outputPath,
  };
}

/** Remuxes `playlistPath` into a new temporary MP4; rejects with WEB_ERR_RECORDING_DOWNLOAD if ffmpeg fails. */
export async function remuxToMp4(
  playlistPath: string,
  { ffmpegPath, logger }: { ffmpegPath: string; logger: FastifyBaseLogger },
): Promise<Mp4File> {
  const dir = await mkdtemp(join(tmpdir(), 'camstream-mp4-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, 'recording.mp4');
  const remuxer = new FfmpegRemuxer({
    ffmpegPath,
    streamId: 'recording-mp4',
    arguments: mp4Arguments(playlistPath, path),
    logger: logger.child({ output: 'recording.mp4' }),
  });
  try {
    await remuxer.start();
    const exit = await remuxer.exited();
    if (exit.code !== 0) throw createError('WEB_ERR_RECORDING_DOWNLOAD', exit.reason);
  } catch (err) {
    await remuxer.close();
    await remove();
    if ((err as { code?: string }).code === 'WEB_ERR_RECORDING_DOWNLOAD') throw err;
    throw createError('WEB_ERR_RECORDING_DOWNLOAD', (err as Error).message);
  }
  return { path, remove };
}
