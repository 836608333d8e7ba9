/**
 * One camera's run: a fresh service (RECORD=on-demand) and Mosquitto, the camera live throughout;
 * the service sampled with recording off, then on (`"record": true` on the running stream), then off
 * again (`"record": false`); the recording's segments timed onto the disk; its MP4 downloaded.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Recording } from '@camstream/protocol';
import { parseRecordingPlaylist } from '../../apps/web-service/src/outputs/recordings/playlist.js';
import { probeDuration } from '../../test/helpers/ffprobe.js';
import { ForeignCamera } from '../../test/helpers/foreign-camera.js';
import { json, startSystem, type System } from '../../test/helpers/system.js';
import { waitFor } from '../../test/helpers/wait.js';
import { cachedFinder } from '../lib/resources.js';
import type { Teardown } from '../lib/teardown.js';
import { DiskWatch, wallMs } from './disk-watch.js';
import { startKeyframeTap, type KeyframeTap } from './keyframe-tap.js';
import type { CameraKind, RecordingsOptions } from './options.js';
import { ServiceSampler } from './sampler.js';
import type { CameraRun, Phase, SegmentWrite } from './types.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CAMERA = 'cam1';

async function post(system: System, path: string, body: unknown): Promise<unknown> {
  const { status, body: answer } = await system.api(path, json(body));
  if (status !== 200)
    throw new Error(`POST ${path} ${JSON.stringify(body)}: ${status} ${JSON.stringify(answer)}`);
  return answer;
}

async function recordings(system: System): Promise<Recording[]> {
  const { status, body } = await system.api(`/api/recordings?camera=${CAMERA}`);
  if (status !== 200) throw new Error(`GET /api/recordings: ${status}`);
  return (body as { recordings: Recording[] }).recordings;
}

/**
 * The service with our agent on its test source, or with a camera that is not ours (plain ffmpeg),
 * either sending through the keyframe tap.
 */
async function startWith(
  kind: CameraKind,
  teardown: Teardown,
  recordDir: string,
): Promise<{ system: System; tap: KeyframeTap }> {
  const system = await startSystem(teardown, {
    broker: 'mosquitto',
    agent: false,
    webEnv: {
      WEBRTC: 'off',
      LOG_LEVEL: 'warn',
      RECORD: 'on-demand',
      RECORD_DIR: recordDir,
      RECORD_KEEP_DAYS: '0',
      RECORD_MIN_FREE: '0',
    },
  });
  const tap = await startKeyframeTap(teardown, system.udpPort);
  if (kind === 'agent') {
    await system.startAgent({ UDP_TARGET: tap.url });
    return { system, tap };
  }
  const camera = await ForeignCamera.connect({ mqttUrl: system.mqttUrl, cameraId: CAMERA, target: tap.url });
  teardown.add(() => camera.close(), 'the foreign camera');
  await waitFor('the service to see the foreign camera idle', async () => {
    const { body } = await system.api('/api/stream');
    return (body as { camera?: { state?: string } | null }).camera?.state === 'idle';
  });
  return { system, tap };
}

/** The keyframe that arrived nearest to `ms`, if within half a second of it. */
function nearest(keyframes: readonly number[], ms: number): number | undefined {
  let best: number | undefined;
  for (const at of keyframes) if (best === undefined || Math.abs(at - ms) < Math.abs(best - ms)) best = at;
  return best !== undefined && Math.abs(best - ms) < 500 ? best : undefined;
}

/** Each segment's end on the recording's clock beside the moment its file was written. */
function segmentWrites(
  playlist: string,
  sizes: Map<string, number>,
  disk: DiskWatch,
  keyframes: readonly number[],
): SegmentWrite[] {
  const { segments } = parseRecordingPlaylist(playlist);
  return segments.map((segment, i) => {
    const endMs = segment.programDateTime + segment.duration * 1000;
    return {
      name: segment.name,
      bytes: sizes.get(segment.name) ?? 0,
      endMs,
      keyframeMs: nearest(keyframes, endMs),
      writtenMs: disk.changes.get(segment.name),
      last: i === segments.length - 1,
    };
  });
}

export async function measureCamera(
  kind: CameraKind,
  options: RecordingsOptions,
  { teardown, tempDir, log }: { teardown: Teardown; tempDir: string; log: (line: string) => void },
): Promise<CameraRun> {
  const recordDir = await mkdtemp(join(tempDir, `${kind}-`));
  const { system, tap } = await startWith(kind, teardown, recordDir);
  const errors: string[] = [];
  const sampler = new ServiceSampler(system.web.proc.pid!, cachedFinder(system.segmenterPids), recordDir);
  teardown.add(() => sampler.stop(), 'the sampler');
  const phases: CameraRun['phases'] = [];
  const phase = async (name: Phase, seconds: number) => {
    await sampler.enter(name);
    const from = sampler.now();
    await sleep(seconds * 1000);
    phases.push({ phase: name, from, to: sampler.now() });
  };

  await post(system, `/api/cameras/${CAMERA}/start`, {});
  log(`${kind}: live; ${options.warmupSec} s warm-up, then ${options.seconds / 2} s not recording`);
  await phase('warmup', options.warmupSec);
  await phase('off-before', options.seconds / 2);
  const disk = await DiskWatch.start(recordDir, CAMERA);
  teardown.add(() => disk.close(), 'the disk watch');
  await post(system, `/api/cameras/${CAMERA}/start`, { record: true });
  log(`${kind}: recording for ${options.seconds} s`);
  await phase('on', options.seconds);
  await post(system, `/api/cameras/${CAMERA}/start`, { record: false });
  log(`${kind}: recording ended; ${options.seconds / 2} s not recording`);
  await phase('off-after', options.seconds / 2);
  await sampler.stop();
  disk.close();
  await post(system, `/api/cameras/${CAMERA}/stop`, {});

  const [recording, ...more] = await recordings(system);
  if (!recording) throw new Error(`${kind}: no recording listed`);
  if (more.length > 0) errors.push(`${more.length + 1} recordings where one was made`);
  const dir = join(recordDir, CAMERA, recording.id.split('~')[1]!, recording.id.split('~')[2]!);
  const files = await readdir(dir);
  const sizes = new Map<string, number>();
  for (const file of files) sizes.set(file, (await stat(join(dir, file))).size);
  const playlist = await readFile(join(dir, 'playlist.m3u8'), 'utf8');
  const segments = segmentWrites(playlist, sizes, disk, tap.keyframes);
  const closed = segments.filter((segment) => !segment.last);
  const unseen = closed.filter((segment) => segment.writtenMs === undefined).length;
  if (unseen > 0) errors.push(`${unseen} segments written unseen by inotify`);
  const unmatched = closed.filter((segment) => segment.keyframeMs === undefined).length;
  if (unmatched > 0) errors.push(`${unmatched} segments with no keyframe seen arriving near their end`);

  const downloads: CameraRun['downloads'] = [];
  let mp4Seconds: number | undefined;
  for (let i = 0; i < options.downloads; i++) {
    const started = wallMs();
    const response = await fetch(`${system.baseUrl}${recording.mp4Url}`);
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200) throw new Error(`${kind}: the MP4: ${response.status} ${body.toString()}`);
    downloads.push({ ms: wallMs() - started, bytes: body.length });
    if (i === 0) {
      const file = join(recordDir, 'download.mp4');
      await writeFile(file, body);
      mp4Seconds = await probeDuration(file, { timeoutMs: 60_000 });
      await rm(file);
    }
  }
  log(`${kind}: ${recording.duration} s recorded, ${recording.bytes} bytes in ${files.length} files`);
  return {
    camera: kind,
    samples: sampler.samples,
    phases,
    recording: {
      id: recording.id,
      duration: recording.duration,
      bytes: [...sizes.values()].reduce((sum, size) => sum + size, 0),
      files: files.length,
      segments,
    },
    downloads,
    ...(mp4Seconds !== undefined && { mp4Seconds }),
    errors,
  };
}
