/**
 * Recordings (outputs/recordings/):
 * - `GET /api/recordings?camera=&from=&to=`: the recordings, oldest first (of a camera, overlapping
 *   [from, to], ISO times); a token limited to some cameras must name one of them;
 * - `GET /api/recordings/<id>/playlist.m3u8` and its init segments and segments: the recording as
 *   HLS (VOD once it ended, EVENT while it is written), for hls.js, Safari, VLC, ffmpeg;
 * - `GET /api/recordings/<id>.mp4`: one MP4 (faststart), remuxed when asked, once it has ended;
 * - `DELETE /api/recordings/<id>`: operators.
 * Watching needs watch access to the recording's camera (the door reads it from the id); the
 * playlist, its files and the MP4 take a signed URL's ?token= too, as /hls does.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  API_PATHS,
  RecordingListSchema,
  RecordingQuerySchema,
  recordingPaths,
  type Recording,
  type RecordingList,
  type RecordingQuery,
} from '@camstream/protocol';
import { createError } from '../errors.js';
import { remuxToMp4 } from '../outputs/recordings/mp4.js';
import { RECORDING_PLAYLIST } from '../outputs/recordings/playlist.js';
import type { RecordingEntry, RecordingStore } from '../outputs/recordings/store.js';
import { errorResponses } from './cameras.js';

/** The files of a recording's folder that are served: its init segments and segments. */
const MEDIA_NAME = /^(?:init-\d{1,6}\.mp4|seg-\d{5,9}\.m4s)$/;
/** MP4s being made at once (each an ffmpeg remux to a temporary file). */
const MAX_MP4_AT_ONCE = 2;

export function toRecording(entry: RecordingEntry): Recording {
  const paths = recordingPaths(entry.id);
  return {
    id: entry.id,
    cameraId: entry.cameraId,
    start: new Date(entry.startMs).toISOString(),
    end: new Date(entry.endMs).toISOString(),
    duration: Number(entry.duration.toFixed(3)),
    bytes: entry.bytes,
    recording: entry.recording,
    playlistUrl: paths.playlist,
    mp4Url: paths.mp4,
  };
}

function parseTime(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  if (!Number.isFinite(ms))
    throw createError('WEB_ERR_BAD_REQUEST', `?${name}= must be an ISO time, not ${JSON.stringify(raw)}`);
  return ms;
}

export interface RecordingRoutesOptions {
  readonly store: RecordingStore;
  readonly ffmpegPath: string;
}

export function recordingRoutes(app: FastifyInstance, { store, ffmpegPath }: RecordingRoutesOptions): void {
  const base = API_PATHS.recordings;
  const lookUp = (id: string): RecordingEntry => {
    const entry = store.get(id);
    if (!entry) throw createError('WEB_ERR_UNKNOWN_RECORDING', JSON.stringify(id));
    return entry;
  };
  const sendFile = async (reply: FastifyReply, path: string, type: string, cache: string) => {
    const { size } = await stat(path).catch(() => {
      throw createError('WEB_ERR_NOT_FOUND', 'that file of the recording is gone');
    });
    return reply
      .header('content-type', type)
      .header('content-length', size)
      .header('cache-control', cache)
      .send(createReadStream(path));
  };
  // Players that cannot send headers (VLC, <video> in Safari) take a signed URL (door/guard.ts).
  const watchSigned = { config: { access: 'watch' as const, signedUrl: true } };
  let mp4sBeingMade = 0;

  app.get(
    base,
    {
      schema: {
        querystring: RecordingQuerySchema,
        response: { 200: RecordingListSchema, ...errorResponses },
      },
    },
    async (request): Promise<RecordingList> => {
      const query = request.query as RecordingQuery;
      const filter = {
        ...(query.camera !== undefined && { cameraId: query.camera }),
        ...(query.from !== undefined && { fromMs: parseTime('from', query.from) }),
        ...(query.to !== undefined && { toMs: parseTime('to', query.to) }),
      };
      return { recordings: store.list(filter).map(toRecording) };
    },
  );

  app.get(`${base}/:recordingId/${RECORDING_PLAYLIST}`, watchSigned, async (request, reply) => {
    const entry = lookUp((request.params as { recordingId: string }).recordingId);
    return sendFile(reply, join(entry.dir, RECORDING_PLAYLIST), 'application/vnd.apple.mpegurl', 'no-cache');
  });

  app.get(`${base}/:recordingId/:file`, watchSigned, async (request, reply) => {
    const { recordingId, file } = request.params as { recordingId: string; file: string };
    const entry = lookUp(recordingId);
    if (!MEDIA_NAME.test(file)) throw createError('WEB_ERR_NOT_FOUND', request.url);
    const type = file.endsWith('.m4s') ? 'video/iso.segment' : 'video/mp4';
    return sendFile(reply, join(entry.dir, file), type, 'public, max-age=31536000, immutable');
  });

  // `<id>.mp4`: the download. (Its id is the path segment without `.mp4`.)
  app.get(`${base}/:recordingId`, watchSigned, async (request, reply) => {
    const { recordingId } = request.params as { recordingId: string };
    if (!recordingId.endsWith('.mp4')) throw createError('WEB_ERR_NOT_FOUND', request.url);
    const entry = lookUp(recordingId.slice(0, -'.mp4'.length));
    if (entry.recording) throw createError('WEB_ERR_RECORDING_IN_PROGRESS', JSON.stringify(entry.id));
    if (mp4sBeingMade >= MAX_MP4_AT_ONCE) throw createError('WEB_ERR_RECORDING_BUSY', MAX_MP4_AT_ONCE);
    mp4sBeingMade += 1;
    let file;
    try {
      file = await remuxToMp4(join(entry.dir, RECORDING_PLAYLIST), { ffmpegPath, logger: request.log });
    } finally {
      mp4sBeingMade -= 1;
    }
    const removeFile = file.remove;
    reply.raw.once('close', () => void removeFile());
    // A client gone while the MP4 was made: its 'close' came before the listener, so no one sends it.
    if (request.raw.socket?.destroyed) void removeFile();
    reply.header('content-disposition', `attachment; filename="${entry.id}.mp4"`);
    return sendFile(reply, file.path, 'video/mp4', 'no-cache');
  });

  app.delete(`${base}/:recordingId`, async (request, reply) => {
    const entry = lookUp((request.params as { recordingId: string }).recordingId);
    if (entry.recording) throw createError('WEB_ERR_RECORDING_IN_PROGRESS', JSON.stringify(entry.id));
    await store.remove(entry.id);
    return reply.code(204).send();
  });
}
