/** mosquitto_pub and mosquitto_sub, used the way a person at a terminal would. */
import { execFile, spawn } from 'node:child_process';
import { MessageLog } from './message-log.js';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface BrokerAddress {
  port: number;
  username?: string;
  password?: string;
}

function authArgs({ username, password }: BrokerAddress): string[] {
  return [...(username ? ['-u', username] : []), ...(password ? ['-P', password] : [])];
}

export async function mosquittoPub(
  broker: BrokerAddress,
  topic: string,
  message: string,
  { qos = 1, retain = false } = {},
): Promise<void> {
  await execFileAsync('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(broker.port),
    ...authArgs(broker),
    '-q',
    String(qos),
    ...(retain ? ['-r'] : []),
    '-t',
    topic,
    '-m',
    message,
  ]);
}

/**
 * mosquitto_pub with a payload of any bytes (read from stdin, `-s`: a command-line argument can hold
 * neither NUL nor invalid UTF-8, nor more than 128 KiB), or an empty one (`null`: `-n`).
 */
export async function mosquittoPubBytes(
  broker: BrokerAddress,
  topic: string,
  payload: Uint8Array | null,
  { qos = 1, retain = false } = {},
): Promise<void> {
  const args = ['-h', '127.0.0.1', '-p', String(broker.port), ...authArgs(broker), '-q', String(qos)];
  if (retain) args.push('-r');
  args.push('-t', topic, payload === null ? '-n' : '-s');
  const proc = spawn('mosquitto_pub', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  proc.stdin.on('error', () => {}); // a mosquitto_pub that failed to start: reported by its exit
  proc.stdin.end(payload ?? undefined);
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`mosquitto_pub exited with ${code}: ${stderr}`);
}

export interface Subscription {
  /** Messages received so far, parsed as JSON where possible, in arrival order. */
  readonly messages: { topic: string; payload: unknown }[];
  /** Resolves with the first message (from now or already received) that matches. */
  next(
    match: (message: { topic: string; payload: unknown }) => boolean,
    timeoutMs?: number,
  ): Promise<unknown>;
  stop(): Promise<void>;
}

/** `mosquitto_sub -v` on a topic filter, running until stopped. */
export async function mosquittoSub(broker: BrokerAddress, filter: string): Promise<Subscription> {
  const proc = spawn(
    'mosquitto_sub',
    ['-h', '127.0.0.1', '-p', String(broker.port), ...authArgs(broker), '-q', '1', '-v', '-t', filter],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = new MessageLog<{ topic: string; payload: unknown }>();
  let partial = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const space = line.indexOf(' ');
      const topic = space < 0 ? line : line.slice(0, space);
      const raw = space < 0 ? '' : line.slice(space + 1);
      let payload: unknown = raw;
      try {
        payload = JSON.parse(raw);
      } catch {
        // keep the raw text
      }
      log.push({ topic, payload });
    }
  });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // mosquitto_sub has no "subscribed" signal on stdout; give it a moment to connect and subscribe.
  await new Promise((resolve) => setTimeout(resolve, 300));
  if (proc.exitCode !== null) throw new Error(`mosquitto_sub exited: ${stderr}`);

  return {
    messages: log.messages,
    next(match, timeoutMs = 15_000) {
      return log
        .next(match, { timeoutMs }, (seen) => `no matching message on ${filter}; got ${JSON.stringify(seen)}`)
        .then((message) => message.payload);
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
