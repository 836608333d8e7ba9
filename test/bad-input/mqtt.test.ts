/**
 * Bad MQTT input while a stream is live: real Mosquitto, the real agent and service CLIs, real
 * ffmpeg. Every payload on cameras/cam1/control that is not a valid command gets one `ok: false`
 * reply on cameras/cam1/events (with the command's id when one could be read) and changes nothing;
 * garbage on the status and events topics is ignored by the service. Afterwards the same processes
 * still run, the stream is still live, its playlist moves on, and ffmpeg decodes it.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { cameraTopics, CAMERA_STATES, MAX_PAYLOAD_BYTES, type CommandEvent } from '@camstream/protocol';
import { tempDir, useCleanup } from '../helpers/cleanup.js';
import { anyControlPayload, expectedControl } from '../helpers/control-payloads.js';
import { recordFigures } from '../helpers/figures.js';
import { checkAsyncProperty, sampleOf } from '../helpers/fuzz.js';
import { expectSameProcesses, expectStreamPlays, processesOf, type Processes } from '../helpers/live.js';
import { mosquittoPub, mosquittoPubBytes } from '../helpers/mqtt-cli.js';
import { mqttProbe, type MqttProbe } from '../helpers/mqtt-client.js';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.js';
import { runNode } from '../helpers/processes.js';
import { json, SERVICE_CLI, startSystem, type System } from '../helpers/system.js';
import { haveTools } from '../helpers/tools.js';
import { GiveUp, waitFor } from '../helpers/wait.js';

const ready = haveTools('ffmpeg', 'mosquitto', 'mosquitto_pub');
const TOPICS = cameraTopics('cam1');

/** A valid-looking command padded to `size` bytes. */
const padded = (id: string, size: number) => {
  const head = `{"id":"${id}","action":"stop","pad":"`;
  return Buffer.from(`${head}${'x'.repeat(size - head.length - 2)}"}`);
};
const withBytes = (before: string, bytes: number[], after: string) =>
  Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);

/**
 * What a person at a terminal gets wrong, and what a broken or hostile client sends: the payload,
 * the commandId the reply must carry, and what its message must say. Several would stop the stream
 * if they were taken for a command.
 */
const USER_MISTAKES: [string, string | null, string | Buffer | null, RegExp][] = [
  ['JSON cut short', null, '{"action": "stop"', /not valid JSON/],
  ['a bare word', null, 'stop', /not valid JSON/],
  ['an empty payload', null, null, /not valid JSON/],
  ['JSON null', null, 'null', /must be a JSON object/],
  ['a JSON string', null, '"stop"', /must be a JSON object/],
  ['a number', null, '42', /must be a JSON object/],
  ['an array holding a command', null, '[{"id":"a-1","action":"stop"}]', /must be a JSON object/],
  ['no id', null, '{"action":"stop"}', /id/],
  ['no action', 'm-1', '{"id":"m-1"}', /action/],
  ['an unknown action', 'u-1', '{"id":"u-1","action":"dance"}', /action must be one of start, stop/],
  ['an action in capitals', 'u-2', '{"id":"u-2","action":"STOP"}', /action must be one of start, stop/],
  ['an action of the wrong type', 't-1', '{"id":"t-1","action":["stop"]}', /action/],
  ['an id of the wrong type', null, '{"id":7,"action":"stop"}', /id/],
  ['an empty id', null, '{"id":"","action":"stop"}', /id/],
  ['an id of 129 characters', null, JSON.stringify({ id: 'i'.repeat(129), action: 'stop' }), /id/],
  ['the command one level down', null, '{"command":{"id":"n-1","action":"stop"}}', /id/],
  ['an id that is an object', null, '{"id":{"id":"n-2"},"action":"stop"}', /id/],
  [
    'a target that is not udp://',
    'g-1',
    '{"id":"g-1","action":"start","target":"http://127.0.0.1:1/"}',
    /target/,
  ],
  ['a target on port 0', 'g-2', '{"id":"g-2","action":"start","target":"udp://127.0.0.1:0"}', /port must be/],
  ['a target of the wrong type', 'g-3', '{"id":"g-3","action":"start","target":1234}', /target/],
  ['a NUL inside a string', null, withBytes('{"id":"z-1', [0], '","action":"stop"}'), /not valid JSON/],
  ['bytes that are not UTF-8', null, withBytes('{"id":"', [0xff, 0xfe], '","action":"stop"}'), /UTF-8/],
  ['UTF-16', null, Buffer.from('{"id":"w-1","action":"stop"}', 'utf16le'), /not valid JSON|UTF-8/],
  [
    'deep nesting',
    'd-1',
    `{"id":"d-1","action":"dance","x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    /action/,
  ],
  ['just over 16 KiB', null, padded('big-1', MAX_PAYLOAD_BYTES + 1), /limit is 16384/],
  ['256 KiB', null, padded('big-2', 256 * 1024), /limit is 16384/],
  ['1 MiB', null, padded('big-3', 1024 * 1024), /limit is 16384/],
];

/** Not a status the service would act on: not an object with a known state and a time. */
function isGarbageStatus(payload: string | Uint8Array): boolean {
  const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
  if (text.length === 0) return false; // an empty retained payload clears the status: not garbage
  try {
    const value = JSON.parse(text) as { state?: unknown; at?: unknown } | null;
    const known = (CAMERA_STATES as readonly unknown[]).includes(value?.state);
    return !(known && typeof value?.at === 'string' && value.at.length > 0);
  } catch {
    return true;
  }
}

/** Not a command reply: not an object with a string or null commandId and a boolean ok. */
function isGarbageEvent(payload: string | Uint8Array): boolean {
  const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
  try {
    const value = JSON.parse(text) as { commandId?: unknown; ok?: unknown } | null;
    const id = value?.commandId;
    return !((typeof id === 'string' || id === null) && typeof value?.ok === 'boolean');
  } catch {
    return true;
  }
}

const garbage = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 300 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'undefined'),
  fc
    .record(
      {
        state: fc.oneof(fc.constantFrom(...CAMERA_STATES, 'STREAMING', 'live', ''), fc.integer()),
        at: fc.oneof(fc.constant(''), fc.integer(), fc.constant(null)),
        commandId: fc.oneof(fc.integer(), fc.constant(['x'])),
        ok: fc.oneof(fc.constant('true'), fc.integer()),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
);

describe.runIf(ready)('bad MQTT input while a stream is live', () => {
  const shared = useCleanup('file');
  let system: System;
  let probe: MqttProbe;
  let broker: { port: number };
  let before: Processes;
  let serviceStart: Buffer;
  const tried = { mosquittoPub: 0, duplicates: 0, retained: 0, fuzzed: 0, statusGarbage: 0, eventGarbage: 0 };

  beforeAll(async () => {
    system = await startSystem(shared, { broker: 'mosquitto', agent: false });
    broker = { port: system.mqttPort };
    probe = await mqttProbe(shared, system.mqttUrl, 'cameras/cam1/#');
  });

  /** Runs `send`, then returns the next reply the agent publishes. */
  async function replyTo(send: () => Promise<unknown>): Promise<CommandEvent> {
    const from = probe.messages.length;
    await send();
    const reply = await probe.next((m) => m.topic === TOPICS.events, { from });
    return JSON.parse(reply.payload.toString()) as CommandEvent;
  }

  async function publishWithCli(payload: string | Buffer | null, options: { retain?: boolean } = {}) {
    // As typed (-m) where a command line can hold it; bytes and big payloads through stdin (-s).
    if (typeof payload === 'string' && payload.length < 64 * 1024) {
      await mosquittoPub(broker, TOPICS.control, payload, options);
    } else {
      await mosquittoPubBytes(
        broker,
        TOPICS.control,
        typeof payload === 'string' ? Buffer.from(payload) : payload,
        options,
      );
    }
  }

  async function serviceInfo() {
    return (await system.api('/api/stream')).body as {
      state: string;
      camera: Record<string, unknown> | null;
    };
  }

  test('a command retained at the broker is refused when the agent subscribes, and not applied', async () => {
    await mosquittoPub(broker, TOPICS.control, JSON.stringify({ id: 'retained-1', action: 'start' }), {
      retain: true,
    });
    const reply = await replyTo(() => system.startAgent());
    expect(reply).toEqual({
      commandId: 'retained-1',
      ok: false,
      message: expect.stringMatching(/retained/),
      state: 'idle',
    });
    expect(await serviceInfo()).toMatchObject({ state: 'idle', camera: { state: 'idle' } });
    expect(await system.segmenterPids()).toEqual([]);
    // Cleared as the agent's log says; the empty payload reaches the agent too, and is answered.
    expect(system.agent!.output()).toContain(`mosquitto_pub -r -n -t ${TOPICS.control}`);
    const cleared = await replyTo(() => mosquittoPubBytes(broker, TOPICS.control, null, { retain: true }));
    expect(cleared).toMatchObject({ commandId: null, ok: false });
    tried.retained += 2;
  });

  test('the stream goes live through POST /api/stream/start', async () => {
    const from = probe.messages.length;
    expect(await system.api('/api/stream/start', json())).toMatchObject({
      status: 200,
      body: { state: 'live' },
    });
    serviceStart = (await probe.next((m) => m.topic === TOPICS.control, { from })).payload;
    before = await processesOf(system);
    expect(before.segmenters).toHaveLength(1);
  });

  test.each(USER_MISTAKES)(
    'mosquitto_pub, %s: ok:false, commandId %s',
    async (_what, commandId, payload, message) => {
      const reply = await replyTo(() => publishWithCli(payload));
      expect(reply).toEqual({ commandId, ok: false, message: expect.stringMatching(message) });
      expect((await serviceInfo()).state).toBe('live');
      tried.mosquittoPub += 1;
    },
  );

  test('duplicate ids are applied once and answered again with duplicate:true', async () => {
    const start = JSON.stringify({ id: 'dup-1', action: 'start' });
    const first = await replyTo(() => mosquittoPub(broker, TOPICS.control, start));
    expect(first).toMatchObject({ commandId: 'dup-1', ok: true, action: 'start' });
    expect(first.duplicate).toBeUndefined();
    const again = await replyTo(() => mosquittoPub(broker, TOPICS.control, start));
    expect(again).toEqual({ ...first, duplicate: true });
    // The id decides: a stop with an id seen before is the earlier command again, not a stop.
    const stopWithOldId = await replyTo(() =>
      mosquittoPub(broker, TOPICS.control, JSON.stringify({ id: 'dup-1', action: 'stop' })),
    );
    expect(stopWithOldId).toEqual({ ...first, duplicate: true });
    // The service's own start, delivered again as QoS 1 may: the first reply, not a second start.
    const { id } = JSON.parse(serviceStart.toString()) as { id: string };
    const redelivered = await replyTo(() => probe.publish(TOPICS.control, serviceStart));
    expect(redelivered).toMatchObject({ commandId: id, ok: true, duplicate: true });
    expect(await serviceInfo()).toMatchObject({ state: 'live', camera: { state: 'streaming' } });
    tried.duplicates += 4;
  });

  test('control messages retained while live: garbage is refused; a command reaches the agent as a live one', async () => {
    // MQTT 3.1.1 §3.3.1.3: a subscriber that is already subscribed gets RETAIN=0, so the agent cannot
    // tell; it refuses the retained copy whenever it subscribes again (first test).
    const refused = await replyTo(() => publishWithCli('{"oops"', { retain: true }));
    expect(refused).toMatchObject({
      commandId: null,
      ok: false,
      message: expect.stringMatching(/not valid JSON/),
    });
    const noop = await replyTo(() =>
      publishWithCli(JSON.stringify({ id: 'ret-live-1', action: 'start' }), { retain: true }),
    );
    expect(noop).toMatchObject({
      commandId: 'ret-live-1',
      ok: true,
      message: expect.stringMatching(/already streaming/),
    });
    const cleared = await replyTo(() => mosquittoPubBytes(broker, TOPICS.control, null, { retain: true }));
    expect(cleared).toMatchObject({ commandId: null, ok: false });
    tried.retained += 3;
  });

  test('arbitrary payloads from an mqtt.js client (fast-check): one ok:false reply each, in order', async () => {
    const invalid = anyControlPayload.filter(
      (payload) =>
        !expectedControl(payload).valid &&
        // Never a command that names a target off this machine, even one the validator should refuse.
        !/udp:\/\/(?!127\.0\.0\.1:)/i.test(Buffer.from(payload).toString('latin1')),
    );
    // Sent in batches, without waiting for each reply: the agent answers one at a time, in order.
    const began = probe.messages.length;
    const replyCount = (from: number) => probe.messages.slice(from).filter((m) => m.topic === TOPICS.events);
    await checkAsyncProperty(
      fc.asyncProperty(fc.array(invalid, { minLength: 1, maxLength: 12 }), async (payloads) => {
        const from = probe.messages.length;
        await Promise.all(payloads.map((payload) => probe.publish(TOPICS.control, payload)));
        tried.fuzzed += payloads.length;
        const replies = await waitFor(
          `${payloads.length} replies`,
          () => replyCount(from).length >= payloads.length && replyCount(from),
          { timeoutMs: 10_000, intervalMs: 5 },
        );
        payloads.forEach((payload, index) => {
          const verdict = expectedControl(payload);
          expect(JSON.parse(replies[index]!.payload.toString()), `payload ${index}`).toEqual({
            commandId: verdict.valid ? 'a valid command' : verdict.id,
            ok: false,
            message: expect.stringMatching(/\S/),
          });
        });
      }),
      40,
    );
    // One reply per payload: none more.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(replyCount(began)).toHaveLength(tried.fuzzed);
    expect((await serviceInfo()).state).toBe('live');
  });

  test('garbage on cameras/cam1/status and /events: ignored by the service, which logs it', async () => {
    const original = (await serviceInfo()).camera!;
    expect(original).toMatchObject({ state: 'streaming' });
    const statuses = [
      '{"state":"streaming"}',
      '{"state":"dancing","at":"2026-01-01T00:00:00.000Z"}',
      '{"state":"idle","at":5}',
      '{"state":"offline","at":""}',
      '{"state":"STREAMING","at":"x"}',
      '[{"state":"idle","at":"x"}]',
      'idle',
      'x'.repeat(MAX_PAYLOAD_BYTES + 1),
      ...sampleOf(garbage, 150),
    ].filter(isGarbageStatus);
    const events = ['{"commandId":1,"ok":false}', '{"ok":true}', 'ok', ...sampleOf(garbage, 150, 7)].filter(
      isGarbageEvent,
    );
    for (const payload of statuses) await probe.publish(TOPICS.status, payload);
    for (const payload of events) await probe.publish(TOPICS.events, payload);
    tried.statusGarbage += statuses.length;
    tried.eventGarbage += events.length;
    // A valid status published after the garbage: once the service shows it, it has read the garbage.
    await expectServiceShows({ ...original, message: 'barrier-1' });
    expect(system.web.output()).toMatch(/ignored an invalid camera status/);
    expect(system.web.output()).toMatch(/ignored an invalid command event/);
    // Put back what the camera said.
    await expectServiceShows(original);
  });

  test('a retained garbage status is ignored; a service that restarts then has never heard from the camera', async () => {
    const original = (await serviceInfo()).camera!;
    await probe.publish(TOPICS.status, '{"state":"streamin', { retain: true });
    tried.statusGarbage += 1;
    await expectServiceShows({ ...original, message: 'barrier-2' });

    // What the broker's ACLs are there to prevent (infra/mosquitto): the garbage replaced the camera's
    // retained status, so a service that starts now cannot see the camera until it publishes again.
    const restarted = await startAnotherService();
    expect((await restarted.get('/api/stream')).body).toMatchObject({ state: 'idle', camera: null });
    expect(await restarted.post('/api/stream/start')).toMatchObject({
      status: 503,
      body: { code: 'WEB_ERR_CAMERA_OFFLINE', message: expect.stringMatching(/never heard from/) },
    });
    await restarted.stop();

    // The camera's retained status, as the agent published it.
    await probe.publish(TOPICS.status, JSON.stringify(original), { retain: true });
    await waitFor('the service to show the camera’s own status', async () => {
      const { camera } = await serviceInfo();
      return camera?.message === undefined && camera?.state === 'streaming';
    });
  });

  test('afterwards: the same processes, still live and streaming, new parts listed, ffmpeg decodes it', async () => {
    expectSameProcesses(system, before);
    expect(await system.segmenterPids()).toEqual(before.segmenters);
    await expectStreamPlays(system);
    // The broker holds the camera's real status for anyone who subscribes now.
    const fresh = await mqttProbe(shared, system.mqttUrl, TOPICS.status);
    const retained = await fresh.next((m) => m.retain);
    expect(JSON.parse(retained.payload.toString())).toMatchObject({ state: 'streaming' });
    expect(system.agent!.output()).toMatch(/rejected a control message/);
    recordFigures({ ...tried, total: Object.values(tried).reduce((sum, n) => sum + n, 0) });
  });

  /** Publishes `status` (not retained) and waits until GET /api/stream shows exactly it, still live. */
  async function expectServiceShows(status: Record<string, unknown>): Promise<void> {
    await probe.publish(TOPICS.status, JSON.stringify(status));
    await waitFor(`the service to show ${JSON.stringify(status)}`, async () => {
      const { camera } = await serviceInfo();
      return camera?.message === status.message && camera?.at === status.at;
    });
    expect(await serviceInfo()).toMatchObject({ state: 'live', camera: status });
  }

  /** A second web service on the same broker, as the first would be after a restart. */
  async function startAnotherService() {
    const hlsDir = await tempDir(shared, 'camstream-test-hls-');
    const port = await freeTcpPort();
    const web = runNode('web-restarted', SERVICE_CLI, {
      HOST: '127.0.0.1',
      PORT: String(port),
      MQTT_URL: system.mqttUrl,
      UDP_LISTEN: `udp://127.0.0.1:${await freeUdpPort()}`,
      HLS_DIR: hlsDir,
      LOG_LEVEL: 'info',
    });
    shared.add(() => web.stop());
    const call = async (path: string, init?: RequestInit) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
      return { status: response.status, body: (await response.json()) as unknown };
    };
    await waitFor(`the second web service\n${web.output()}`, async () => {
      if (web.proc.exitCode !== null) throw new GiveUp(`it exited:\n${web.output()}`);
      return (await call('/api/stream')).status === 200;
    });
    return {
      get: (path: string) => call(path),
      post: (path: string) => call(path, { method: 'POST' }),
      stop: () => web.stop(),
    };
  }
});
