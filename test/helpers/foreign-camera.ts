/**
 * A camera that is not ours: it speaks the wire contract (MQTT 3.1.1 control, retained status with
 * `offline` as its Last Will, one event per command id) around plain ffmpeg, which sends H.264 in
 * MPEG-TS straight to the UDP target with none of our agent's tricks: no early second keyframe (a
 * keyframe every GOP, from the first frame), ffmpeg's own mpegts muxer with its defaults (no
 * -flush_packets, no -muxdelay: a frame's last datagram waits until 1316 bytes are full), no relay.
 * That is what Picamera2's PyavOutput(format="mpegts") and `rpicam-vid --codec libav --libav-format
 * mpegts` send. The picture is the agent's stamped test source, so players can read glass-to-glass.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  cameraTopics,
  parseCameraStatus,
  parseCommandEvent,
  parseControlCommand,
  UDP_DATAGRAM_SIZE,
  type CameraState,
  type CameraStatus,
  type CommandEvent,
  type ControlCommand,
} from '@camstream/protocol';
import { connectAsync, type MqttClient } from 'mqtt';
// The agent's test picture and capture-time stamp, so the page's stats read this camera's frames.
import { stampFilters } from '../../apps/camera-agent/src/sources/test.js';

/** Frames per second: a number (30, 25) or a rational as ffmpeg writes it ('30000/1001'). */
export type FrameRate = number | `${number}/${number}`;

export interface ForeignEncoderSettings {
  /** Default 30. */
  readonly fps?: FrameRate;
  /** Default 640 × 480. */
  readonly width?: number;
  readonly height?: number;
  /** Seconds between keyframes (rounded to whole frames); default 1. */
  readonly gopSeconds?: number;
  /** Bits per second; default 2 Mbps. */
  readonly bitrate?: number;
  /** Stamp each frame with its capture time (glass-to-glass readings); default true. */
  readonly stamp?: boolean;
}

export interface ForeignCameraOptions extends ForeignEncoderSettings {
  readonly mqttUrl: string;
  /** Default `cam1`. */
  readonly cameraId?: string;
  /** Where a start command without a `target` sends the stream: `udp://host:port`. */
  readonly target: string;
  readonly ffmpegPath?: string;
}

/** ffmpeg's text for the rate and its value in frames per second. */
export function frameRate(fps: FrameRate = 30): { text: string; value: number } {
  if (typeof fps === 'number') return { text: String(fps), value: fps };
  const [num, den] = fps.split('/').map(Number) as [number, number];
  return { text: fps, value: num / den };
}

/** The encoder's command line (after `ffmpeg`), sending to `target` (`udp://host:port`). */
export function foreignEncoderArgs(settings: ForeignEncoderSettings, target: string): string[] {
  const { width = 640, height = 480, gopSeconds = 1, bitrate = 2_000_000, stamp = true } = settings;
  const rate = frameRate(settings.fps);
  const gop = String(Math.max(1, Math.round(gopSeconds * rate.value)));
  let source = `testsrc2=size=${width}x${height}:rate=${rate.text}`;
  if (stamp) {
    const video = { width, height, fps: rate.value, bitrate, keyframeInterval: Number(gop) };
    source += `,${stampFilters(video)}`;
  }
  // prettier-ignore
  return [
    '-hide_banner', '-nostats', '-loglevel', 'warning',
    // Progress on stdout every 20 ms: the first `frame=` line tells when the stream began (the
    // `streaming` status's `at`). It reports; it changes nothing on the wire.
    '-progress', 'pipe:1', '-stats_period', '0.02',
    '-re', '-f', 'lavfi', '-i', source,
    // The agent's rate control (the same bitrate and VBV), without its -force_key_frames.
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
    '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
    '-b:v', String(bitrate), '-maxrate', String(bitrate), '-bufsize', String(Math.round(bitrate / 2)),
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0',
    '-an', '-f', 'mpegts',
    `${target}?pkt_size=${UDP_DATAGRAM_SIZE}`,
  ];
}

/** How long a stop waits after `q` and after SIGTERM before the next step. */
const STOP_STEP_MS = 2000;
/** A start fails if ffmpeg has written no frame by then. */
const START_TIMEOUT_MS = 10_000;

/** The running encoder: the process, when it wrote its first frame, and its exit. */
interface Encoder {
  readonly proc: ChildProcess;
  readonly args: string[];
  readonly exited: Promise<void>;
  firstFrameAt?: number;
  stopping: boolean;
}

export class ForeignCamera {
  readonly #options: ForeignCameraOptions;
  readonly #client: MqttClient;
  readonly #topics: ReturnType<typeof cameraTopics>;
  /** Ids seen, so a resent command (QoS 1 delivers at least once) is applied and answered once. */
  readonly #seen = new Set<string>();
  #state: CameraState = 'idle';
  #encoder: Encoder | undefined;
  #lastArgs: string[] | undefined;
  #stderr = '';
  #queue: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  private constructor(options: ForeignCameraOptions, client: MqttClient) {
    this.#options = options;
    this.#client = client;
    this.#topics = cameraTopics(options.cameraId ?? 'cam1');
  }

  /** Connects (MQTT 3.1.1, Last Will `offline`), publishes `idle` and listens for commands. */
  static async connect(options: ForeignCameraOptions): Promise<ForeignCamera> {
    const topics = cameraTopics(options.cameraId ?? 'cam1');
    const will: CameraStatus = { state: 'offline', at: new Date().toISOString(), source: 'foreign' };
    const client = await connectAsync(options.mqttUrl, {
      protocolVersion: 4,
      clientId: `foreign-camera-${randomUUID().slice(0, 8)}`,
      reconnectPeriod: 0,
      will: { topic: topics.status, payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true },
    });
    const camera = new ForeignCamera(options, client);
    client.on('message', (topic, payload, packet) => {
      if (topic !== topics.control || packet.retain) return; // a retained command is never applied
      camera.#queue = camera.#queue.then(() => camera.#handle(payload)).catch(() => undefined);
    });
    await client.subscribeAsync(topics.control, { qos: 1 });
    await camera.#publishStatus('idle');
    return camera;
  }

  get state(): CameraState {
    return this.#state;
  }

  /** The encoder's pid while it runs. */
  get encoderPid(): number | undefined {
    return this.#encoder?.proc.pid;
  }

  /** The last encoder command line run (`ffmpeg …`). */
  get commandLine(): string | undefined {
    return this.#lastArgs && [this.#options.ffmpegPath ?? 'ffmpeg', ...this.#lastArgs].join(' ');
  }

  /** What ffmpeg wrote to stderr (the last 50 KB), for failure messages. */
  encoderLog(): string {
    return this.#stderr;
  }

  /** Stops the encoder, publishes `offline` (retained) and disconnects. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#queue;
      await this.#stopEncoder();
      if (this.#client.connected) await this.#publishStatus('offline');
      await this.#client.endAsync();
    })();
    return this.#closing;
  }

  async #handle(payload: Buffer): Promise<void> {
    if (this.#closing) return;
    const parsed = parseControlCommand(payload);
    const id = parsed.ok ? parsed.value.id : parsed.id;
    if (id !== null) {
      if (this.#seen.has(id)) return;
      this.#seen.add(id);
    }
    if (!parsed.ok) return this.#reply({ commandId: id, ok: false, message: parsed.error });
    const command = parsed.value;
    if (command.action === 'start') return this.#start(command);
    await this.#stopEncoder();
    await this.#publishStatus('idle');
    await this.#reply({ commandId: command.id, ok: true, action: 'stop', state: this.#state });
  }

  async #start(command: ControlCommand): Promise<void> {
    if (this.#encoder) {
      const message = `already streaming to ${this.#encoder.args.at(-1)}`;
      return this.#reply({ commandId: command.id, ok: true, action: 'start', state: this.#state, message });
    }
    const target = command.target ?? this.#options.target;
    await this.#publishStatus('starting', { target });
    try {
      const encoder = await this.#spawnEncoder(target);
      await this.#publishStatus('streaming', { target }, encoder.firstFrameAt);
      await this.#reply({ commandId: command.id, ok: true, action: 'start', state: this.#state });
    } catch (err) {
      await this.#stopEncoder();
      const message = `start failed: ${(err as Error).message}`;
      await this.#publishStatus('error', { message });
      await this.#reply({ commandId: command.id, ok: false, action: 'start', state: this.#state, message });
    }
  }

  /** Spawns ffmpeg and resolves once it has written its first frame. */
  #spawnEncoder(target: string): Promise<Encoder> {
    const args = foreignEncoderArgs(this.#options, target);
    this.#lastArgs = args;
    this.#stderr = '';
    // stdin for ffmpeg's `q`; stdout carries -progress; stderr its warnings.
    const proc = spawn(this.#options.ffmpegPath ?? 'ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stdin.on('error', () => undefined); // EPIPE when `q` races the exit
    proc.stderr.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-50_000);
    });
    const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
    const encoder: Encoder = { proc, args, exited, stopping: false };
    this.#encoder = encoder;
    void exited.then(() => {
      if (this.#encoder !== encoder) return;
      this.#encoder = undefined;
      // Died while streaming: what a camera's wrapper would report.
      if (!encoder.stopping && encoder.firstFrameAt !== undefined && !this.#closing) {
        const message = `the encoder exited (${proc.exitCode})`;
        this.#publishStatus('error', { message }).catch(() => undefined); // the broker may be gone
      }
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no frame within ${START_TIMEOUT_MS} ms: ${this.#stderr}`)),
        START_TIMEOUT_MS,
      );
      proc.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`ffmpeg exited (${proc.exitCode}) before its first frame: ${this.#stderr}`));
      });
      let text = '';
      proc.stdout.on('data', (chunk: Buffer) => {
        if (encoder.firstFrameAt !== undefined) return;
        text += chunk.toString();
        if (/^frame=[1-9]/m.test(text)) {
          encoder.firstFrameAt = Date.now();
          clearTimeout(timer);
          resolve(encoder);
        }
      });
    });
  }

  /** `q` on stdin, then SIGTERM, then SIGKILL; resolves once ffmpeg has exited. */
  async #stopEncoder(): Promise<void> {
    const encoder = this.#encoder;
    if (!encoder) return;
    encoder.stopping = true;
    const { proc, exited } = encoder;
    const gone = () => proc.exitCode !== null || proc.signalCode !== null;
    const within = (ms: number) =>
      Promise.race([exited, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
    if (!gone() && proc.stdin?.writable) proc.stdin.end('q');
    await within(STOP_STEP_MS);
    if (!gone()) proc.kill('SIGTERM');
    await within(STOP_STEP_MS);
    if (!gone()) proc.kill('SIGKILL');
    await exited;
    if (this.#encoder === encoder) this.#encoder = undefined;
  }

  async #publishStatus(state: CameraState, extra: Partial<CameraStatus> = {}, at = Date.now()) {
    this.#state = state;
    const status: CameraStatus = { state, at: new Date(at).toISOString(), source: 'foreign', ...extra };
    const payload = JSON.stringify(status);
    const checked = parseCameraStatus(payload);
    if (!checked.ok) throw new Error(`foreign camera: an invalid status: ${checked.error}`);
    await this.#client.publishAsync(this.#topics.status, payload, { qos: 1, retain: true });
  }

  async #reply(event: CommandEvent): Promise<void> {
    const payload = JSON.stringify(event);
    const checked = parseCommandEvent(payload);
    if (!checked.ok) throw new Error(`foreign camera: an invalid event: ${checked.error}`);
    await this.#client.publishAsync(this.#topics.events, payload, { qos: 1 });
  }
}
