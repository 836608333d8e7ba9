/**
 * The camera's video, as the real agent's test source makes it: ffmpeg's lavfi test pattern encoded
 * with libx264 (1 s GOP, 2 Mbps) and sent as MPEG-TS in 1316-byte UDP datagrams, in real time.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface CameraSource {
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

export function sourceArguments(target: string): string[] {
  return [
    ...['-hide_banner', '-nostats', '-loglevel', 'error', '-nostdin'],
    ...['-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=30'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
    ...['-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-b:v', '2M'],
    ...['-f', 'mpegts', `${target}?pkt_size=1316`],
  ];
}

/** Starts sending to `target` (`udp://host:port`). `stop()` is idempotent. */
export function startCameraSource(target: string): CameraSource {
  const proc = spawn('ffmpeg', sourceArguments(target), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  proc.once('error', (err) => (stderr += err.message));
  return {
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      if (stderr.trim() !== '' && !/signal 15|Exiting normally/.test(stderr)) {
        console.warn(`camera source stderr: ${stderr}`);
      }
    },
  };
}
