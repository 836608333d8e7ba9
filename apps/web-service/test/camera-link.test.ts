/** CameraLink against the in-process embedded broker (aedes on port 0): no external broker needed. */
import { connectAsync, type MqttClient } from 'mqtt';
import { describe, expect, test } from 'vitest';
import type { CameraStatus } from '@camstream/protocol';
import { CameraLink } from '../src/mqtt/camera-link.js';
import { MqttConnection } from '../src/mqtt/connection.js';
import { EmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { useCleanup, type Cleanup } from '../../../test/helpers/cleanup.js';
import { silentLogger } from './helpers/logger.js';
import { waitFor } from '../../../test/helpers/wait.js';

async function startBroker(cleanup: Cleanup, port = 0): Promise<EmbeddedBroker> {
  const broker = await EmbeddedBroker.start('127.0.0.1', port, silentLogger);
  cleanup.add(() => broker.close());
  return broker;
}

async function startCamera(cleanup: Cleanup, url: string): Promise<MqttClient> {
  const client = await connectAsync(url, { protocolVersion: 4 });
  cleanup.add(() => client.endAsync(true));
  return client;
}

function startLink(cleanup: Cleanup, url: string, resendMs?: number): CameraLink {
  const connection = new MqttConnection({
    url,
    discovery: false,
    logger: silentLogger,
    reconnectPeriodMs: 100,
  });
  cleanup.add(() => connection.close());
  const link = new CameraLink({
    connection,
    cameraId: 'cam1',
    logger: silentLogger,
    ...(resendMs !== undefined && { resendMs }),
  });
  cleanup.add(() => link.close());
  return link;
}

const idle = JSON.stringify({ state: 'idle', at: '2026-01-01T00:00:00Z' });

describe('CameraLink', () => {
  const cleanup = useCleanup();

  test('keeps the latest valid status; invalid payloads are ignored', async () => {
    const broker = await startBroker(cleanup);
    const camera = await startCamera(cleanup, broker.url);
    await camera.publishAsync('cameras/cam1/status', idle, { qos: 1, retain: true });
    const link = startLink(cleanup, broker.url);
    const statuses: (CameraStatus | null)[] = [];
    link.on('status', (status) => statuses.push(status));

    await waitFor('the retained status', () => link.status?.state === 'idle');
    for (const payload of ['{"state":"dancing","at":"x"}', 'not json', '[]', '{"at":"x"}']) {
      await camera.publishAsync('cameras/cam1/status', payload, { qos: 1, retain: true });
    }
    await camera.publishAsync('cameras/cam1/status', idle.replace('idle', 'streaming'), { qos: 1 });
    await waitFor('the valid status', () => link.status?.state === 'streaming');
    expect(statuses.map((status) => status?.state)).toEqual(['idle', 'streaming']);

    // Another camera's topics are none of this link's business.
    await camera.publishAsync('cameras/cam2/status', idle.replace('idle', 'offline'), { qos: 1 });
    await camera.publishAsync('cameras/cam1/status', '', { qos: 1, retain: true });
    await waitFor('the cleared status', () => link.status === null);
  });

  test('publishes commands at QoS 1, not retained, and hands over the replies', async () => {
    const broker = await startBroker(cleanup);
    const camera = await startCamera(cleanup, broker.url);
    const received: { payload: unknown; qos: number; retain: boolean }[] = [];
    camera.on('message', (_topic, payload, packet) =>
      received.push({ payload: JSON.parse(payload.toString()), qos: packet.qos, retain: packet.retain }),
    );
    await camera.subscribeAsync('cameras/cam1/control', { qos: 1 });
    const link = startLink(cleanup, broker.url);
    await link.whenSubscribed(AbortSignal.timeout(5000));

    const id = link.publishCommand('start', 'udp://10.0.0.2:1234');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor('the command', () => received.length === 1);
    expect(received[0]).toEqual({
      payload: { id, action: 'start', target: 'udp://10.0.0.2:1234' },
      qos: 1,
      retain: false,
    });

    const reply = link.waitForReply(id, AbortSignal.timeout(5000));
    await camera.publishAsync('cameras/cam1/events', '{"commandId": 42}', { qos: 1 }); // invalid: ignored
    await camera.publishAsync(
      'cameras/cam1/events',
      JSON.stringify({ commandId: id, ok: false, message: 'no' }),
    );
    expect(await reply).toEqual({ commandId: id, ok: false, message: 'no' });
    // A late waiter still gets a recent reply.
    expect(await link.waitForReply(id, AbortSignal.timeout(100))).toMatchObject({ ok: false });
    await expect(link.waitForReply('unknown', AbortSignal.timeout(50))).rejects.toThrow();
  });

  test('reconnects by itself and subscribes again (clean session)', async () => {
    const first = await startBroker(cleanup);
    const port = first.port;
    const link = startLink(cleanup, first.url);
    await link.whenSubscribed(AbortSignal.timeout(5000));
    const disconnected = new Promise((resolve) => link.once('disconnect', () => resolve(true)));
    await first.close();
    expect(await disconnected).toBe(true);
    expect(link.connected).toBe(false);

    const second = await startBroker(cleanup, port);
    const camera = await startCamera(cleanup, second.url);
    await camera.publishAsync('cameras/cam1/status', idle.replace('idle', 'streaming'), {
      qos: 1,
      retain: true,
    });
    await waitFor('the status through the new session', () => link.status?.state === 'streaming', {
      timeoutMs: 10_000,
    });
    expect(link.connected).toBe(true);
  });

  /** The commands a camera receives on its control topic, and a way to answer them. */
  async function controlled(camera: MqttClient) {
    const commands: { id: string; action: string }[] = [];
    camera.on('message', (topic, payload) => {
      if (topic === 'cameras/cam1/control') commands.push(JSON.parse(payload.toString()));
    });
    await camera.subscribeAsync('cameras/cam1/control', { qos: 1 });
    const answer = (id: string) =>
      camera.publishAsync('cameras/cam1/events', JSON.stringify({ commandId: id, ok: true }), { qos: 1 });
    const announce = (state = 'idle') =>
      camera.publishAsync('cameras/cam1/status', idle.replace('idle', state), { qos: 1, retain: true });
    return { commands, answer, announce };
  }

  test('a command the camera did not get (it was not subscribed) is sent again, same id, once it announces itself', async () => {
    const broker = await startBroker(cleanup);
    const link = startLink(cleanup, broker.url, 60_000);
    await link.whenSubscribed(AbortSignal.timeout(5000));
    const id = link.publishCommand('stop'); // nobody subscribed: the broker drops it

    const camera = await controlled(await startCamera(cleanup, broker.url));
    expect(camera.commands).toEqual([]);
    await camera.announce(); // as the agent does right after it subscribed
    await waitFor('the command, again', () => camera.commands.length === 1);
    expect(camera.commands[0]).toEqual({ id, action: 'stop' });
    await camera.answer(id);
    await waitFor('settled', () => link.pendingCommand === undefined);
    await camera.announce('idle');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(camera.commands).toHaveLength(1);
  });

  test('published while the broker is down: delivered once both are back, by resending the same id', async () => {
    const first = await startBroker(cleanup);
    const port = first.port;
    const link = startLink(cleanup, first.url, 60_000);
    await link.whenSubscribed(AbortSignal.timeout(5000));
    await first.close();
    await waitFor('disconnected', () => !link.connected);
    const id = link.publishCommand('stop'); // queued by mqtt.js

    const second = await startBroker(cleanup, port);
    await waitFor('reconnected', () => link.connected, { timeoutMs: 10_000 });
    const camera = await controlled(await startCamera(cleanup, second.url)); // after the link: the
    await camera.announce('streaming'); // queued copy went to nobody; this brings it again
    await waitFor('the command', () => camera.commands.length >= 1);
    expect(new Set(camera.commands.map((c) => c.id))).toEqual(new Set([id]));
    await camera.answer(id);
    await waitFor('settled', () => link.pendingCommand === undefined);
  });

  test('unanswered: sent again every resend period until the answer; a newer command supersedes it', async () => {
    const broker = await startBroker(cleanup);
    const camera = await controlled(await startCamera(cleanup, broker.url));
    const link = startLink(cleanup, broker.url, 150);
    await link.whenSubscribed(AbortSignal.timeout(5000));
    const start = link.publishCommand('start');
    await waitFor('three copies', () => camera.commands.length >= 3);
    const stop = link.publishCommand('stop');
    expect(link.pendingCommand).toMatchObject({ id: stop, action: 'stop' });
    await waitFor('two copies of the stop', () => camera.commands.filter((c) => c.id === stop).length >= 2);
    await camera.answer(stop);
    await waitFor('settled', () => link.pendingCommand === undefined);
    const copies = camera.commands.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(camera.commands).toHaveLength(copies);
    // Every copy of the start came before the stop's first: the older intent is not repeated after it.
    const firstStop = camera.commands.findIndex((c) => c.id === stop);
    expect(camera.commands.slice(firstStop).every((c) => c.id === stop)).toBe(true);
    expect(camera.commands.slice(0, firstStop).every((c) => c.id === start)).toBe(true);
  });
});
