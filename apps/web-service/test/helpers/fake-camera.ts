/**
 * A stand-in for the camera agent, for service-only tests: an MQTT participant that answers control
 * commands like the real agent (retained status with an `offline` Last Will, one event per command,
 * duplicate ids applied once) and sends a real MPEG-TS stream with ffmpeg (camera-source.ts).
 */
import { connectAsync, type MqttClient } from 'mqtt';
import {
  cameraTopics,
  parseControlCommand,
  type CameraState,
  type CommandEvent,
  type ControlCommand,
} from '@camstream/protocol';
import { startCameraSource, type CameraSource } from './camera-source.js';
import type { Cleanup } from '../../../../test/helpers/cleanup.js';

export interface FakeCameraOptions {
  readonly mqttUrl: string;
  /** Where the video goes when a start carries no target (the agent's own UDP_TARGET). */
  readonly target: string;
  readonly cameraId?: string;
  /** Answer starts with `ok: false` and this message. */
  readonly rejectStarts?: string;
}

export interface FakeCamera {
  readonly commands: ControlCommand[];
  readonly events: CommandEvent[];
  /** The target of the stream being sent, if any. */
  sendingTo(): string | undefined;
  /** Publishes the retained `offline` and disconnects, as the agent's clean shutdown does. */
  goOffline(): Promise<void>;
}

export async function startFakeCamera(cleanup: Cleanup, options: FakeCameraOptions): Promise<FakeCamera> {
  const topics = cameraTopics(options.cameraId ?? 'cam1');
  const statusPayload = (state: CameraState) => JSON.stringify({ state, at: new Date().toISOString() });
  const client: MqttClient = await connectAsync(options.mqttUrl, {
    protocolVersion: 4,
    clean: true,
    will: { topic: topics.status, payload: Buffer.from(statusPayload('offline')), qos: 1, retain: true },
  });
  let source: CameraSource | undefined;
  let target: string | undefined;
  const seen = new Map<string, CommandEvent>();
  const commands: ControlCommand[] = [];
  const events: CommandEvent[] = [];

  const publishStatus = (state: CameraState) =>
    client.publishAsync(topics.status, statusPayload(state), { qos: 1, retain: true });
  const reply = async (event: CommandEvent) => {
    events.push(event);
    await client.publishAsync(topics.events, JSON.stringify(event), { qos: 1 });
  };
  const stopSource = async () => {
    await source?.stop();
    source = undefined;
    target = undefined;
  };

  // Set once the test tears the camera down: a command still being handled then may find the client
  // gone ("client disconnecting"); that is the teardown, not a failure.
  let ending = false;
  const unlessEnding = (err: unknown) => {
    if (!ending) throw err;
  };

  cleanup.add(async () => {
    ending = true;
    await stopSource();
    if (client.connected) await client.publishAsync(topics.status, '', { qos: 1, retain: true });
    await client.endAsync();
  });

  client.on('message', (_topic, payload) => {
    const parsed = parseControlCommand(payload);
    if (!parsed.ok) {
      reply({ commandId: parsed.id, ok: false, message: parsed.error }).catch(unlessEnding);
      return;
    }
    const command = parsed.value;
    commands.push(command);
    const earlier = seen.get(command.id);
    if (earlier) {
      reply({ ...earlier, duplicate: true }).catch(unlessEnding);
      return;
    }
    (async () => {
      let event: CommandEvent;
      if (command.action === 'start' && options.rejectStarts) {
        event = { commandId: command.id, ok: false, action: 'start', message: options.rejectStarts };
      } else if (command.action === 'start') {
        if (!source) {
          await publishStatus('starting');
          target = command.target ?? options.target;
          source = startCameraSource(target);
          await publishStatus('streaming');
        }
        event = { commandId: command.id, ok: true, action: 'start', state: 'streaming' };
      } else {
        await stopSource();
        await publishStatus('idle');
        event = { commandId: command.id, ok: true, action: 'stop', state: 'idle' };
      }
      seen.set(command.id, event);
      await reply(event);
    })().catch(unlessEnding);
  });
  await client.subscribeAsync(topics.control, { qos: 1 });
  await publishStatus('idle');

  return {
    commands,
    events,
    sendingTo: () => target,
    async goOffline() {
      ending = true;
      await stopSource();
      await publishStatus('offline');
      await client.endAsync();
    },
  };
}
