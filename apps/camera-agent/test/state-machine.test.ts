import { describe, expect, test } from 'vitest';
import { InvalidStateError } from '../src/errors.js';
import { AgentStateMachine, RETAINED_COMMAND_MESSAGE, type Decision } from '../src/state-machine.js';

const DEFAULT_TARGET = 'udp://127.0.0.1:1234';
const json = (value: unknown) => JSON.stringify(value);
const start = (id: string, target?: string) => json({ id, action: 'start', ...(target && { target }) });
const stop = (id: string) => json({ id, action: 'stop' });

function machine(rememberCommands?: number) {
  return new AgentStateMachine({
    defaultTarget: DEFAULT_TARGET,
    ...(rememberCommands && { rememberCommands }),
  });
}

function expectApply(decision: Decision) {
  if (decision.kind !== 'apply') throw new Error(`expected an effect, got ${json(decision)}`);
  return decision;
}

function expectReply(decision: Decision) {
  if (decision.kind !== 'reply') throw new Error(`expected a reply, got ${json(decision)}`);
  return decision.reply;
}

/** Runs a start command through to streaming, as the agent does. */
function streamingMachine(target = DEFAULT_TARGET) {
  const m = machine();
  const { command } = expectApply(m.receive(start('s0', target)));
  m.starting(target);
  m.streaming();
  m.settle(command, { ok: true });
  return m;
}

describe('AgentStateMachine', () => {
  test('starts idle, with nothing wanted', () => {
    const m = machine();
    expect(m.state).toBe('idle');
    expect(m.wanted).toBe(false);
    expect(m.status).toEqual({ state: 'idle' });
  });

  test('start while idle: an effect to the default target, then starting → streaming', () => {
    const m = machine();
    const decision = expectApply(m.receive(start('c1')));
    expect(decision.effect).toEqual({ type: 'start', target: DEFAULT_TARGET });
    expect(decision.command).toEqual({ id: 'c1', action: 'start' });
    m.starting(DEFAULT_TARGET);
    expect(m.status).toEqual({ state: 'starting', target: DEFAULT_TARGET });
    m.streaming();
    expect(m.status).toEqual({ state: 'streaming', target: DEFAULT_TARGET });
    expect(m.settle(decision.command, { ok: true })).toEqual({
      commandId: 'c1',
      ok: true,
      action: 'start',
      state: 'streaming',
    });
  });

  test("start uses the command's target when it has one", () => {
    const decision = expectApply(machine().receive(start('c1', 'udp://10.0.0.5:5000')));
    expect(decision.effect).toEqual({ type: 'start', target: 'udp://10.0.0.5:5000' });
  });

  test('start while streaming to the same target: a successful no-op', () => {
    const m = streamingMachine();
    const reply = expectReply(m.receive(start('c2')));
    expect(reply).toEqual({
      commandId: 'c2',
      ok: true,
      action: 'start',
      state: 'streaming',
      message: `already streaming to ${DEFAULT_TARGET}`,
    });
    expect(m.state).toBe('streaming');
  });

  test('start while starting: a successful no-op', () => {
    const m = machine();
    m.starting(DEFAULT_TARGET);
    expect(expectReply(m.receive(start('c2')))).toMatchObject({ ok: true, state: 'starting' });
  });

  test('start while streaming to another target: retarget the running stream', () => {
    const m = streamingMachine();
    const decision = expectApply(m.receive(start('c2', 'udp://10.0.0.9:9000')));
    expect(decision.effect).toEqual({ type: 'retarget', target: 'udp://10.0.0.9:9000' });
    m.retargeted('udp://10.0.0.9:9000');
    expect(m.status).toEqual({ state: 'streaming', target: 'udp://10.0.0.9:9000' });
  });

  test('stop while idle: a successful no-op', () => {
    expect(expectReply(machine().receive(stop('c1')))).toEqual({
      commandId: 'c1',
      ok: true,
      action: 'stop',
      state: 'idle',
      message: 'already idle',
    });
  });

  test('stop while streaming: a stop effect, then idle', () => {
    const m = streamingMachine();
    const decision = expectApply(m.receive(stop('c2')));
    expect(decision.effect).toEqual({ type: 'stop' });
    m.stopped();
    expect(m.status).toEqual({ state: 'idle' });
    expect(m.wanted).toBe(false);
    expect(m.settle(decision.command, { ok: true })).toEqual({
      commandId: 'c2',
      ok: true,
      action: 'stop',
      state: 'idle',
    });
  });

  test('a commanded start that fails: error with the reason, nothing wanted any more', () => {
    const m = machine();
    const { command } = expectApply(m.receive(start('c1')));
    m.starting(DEFAULT_TARGET);
    m.failed('the encoder exited with code 1', { stillWanted: false });
    expect(m.status).toEqual({ state: 'error', message: 'the encoder exited with code 1' });
    expect(m.wanted).toBe(false);
    expect(m.settle(command, { ok: false, message: 'the encoder exited with code 1' })).toEqual({
      commandId: 'c1',
      ok: false,
      action: 'start',
      state: 'error',
      message: 'the encoder exited with code 1',
    });
  });

  test('an encoder that dies while streaming: error, still wanted (the agent restarts it)', () => {
    const m = streamingMachine();
    m.failed('the encoder was killed by SIGKILL; restarting in 500 ms', { stillWanted: true });
    expect(m.wanted).toBe(true);
    expect(m.status).toEqual({
      state: 'error',
      target: DEFAULT_TARGET,
      message: 'the encoder was killed by SIGKILL; restarting in 500 ms',
    });
    // The restart goes through starting again and clears the message.
    m.starting(DEFAULT_TARGET);
    expect(m.status).toEqual({ state: 'starting', target: DEFAULT_TARGET });
  });

  test('start in the error state is applied (a fresh attempt), whether or not a restart is pending', () => {
    const failedStart = machine();
    failedStart.starting(DEFAULT_TARGET);
    failedStart.failed('boom', { stillWanted: false });
    expect(expectApply(failedStart.receive(start('c2'))).effect).toEqual({
      type: 'start',
      target: DEFAULT_TARGET,
    });

    const restarting = streamingMachine();
    restarting.failed('died', { stillWanted: true });
    expect(expectApply(restarting.receive(start('c3'))).effect).toEqual({
      type: 'start',
      target: DEFAULT_TARGET,
    });
  });

  test('stop in the error state is applied: it cancels restarts and clears the error', () => {
    for (const stillWanted of [true, false]) {
      const m = streamingMachine();
      m.failed('died', { stillWanted });
      expect(expectApply(m.receive(stop(`stop-${stillWanted}`))).effect).toEqual({ type: 'stop' });
      m.stopped();
      expect(m.status).toEqual({ state: 'idle' });
    }
  });

  describe('duplicate command ids', () => {
    test('get the first reply again, marked duplicate, and are not applied', () => {
      const m = machine();
      const { command } = expectApply(m.receive(start('dup')));
      m.starting(DEFAULT_TARGET);
      m.streaming();
      const first = m.settle(command, { ok: true });
      const again = expectReply(m.receive(start('dup')));
      expect(again).toEqual({ ...first, duplicate: true });
      expect(m.state).toBe('streaming');
    });

    test('a duplicate stop after a later start is not applied', () => {
      const m = machine();
      const stopReply = expectReply(m.receive(stop('s1'))); // no-op while idle, still remembered
      const { command } = expectApply(m.receive(start('s2')));
      m.starting(DEFAULT_TARGET);
      m.streaming();
      m.settle(command, { ok: true });
      expect(expectReply(m.receive(stop('s1')))).toEqual({ ...stopReply, duplicate: true });
      expect(m.state).toBe('streaming');
    });

    test('a failed command is remembered too: its duplicate gets the failure', () => {
      const m = machine();
      const { command } = expectApply(m.receive(start('f1')));
      m.starting(DEFAULT_TARGET);
      m.failed('no camera', { stillWanted: false });
      m.settle(command, { ok: false, message: 'no camera' });
      expect(expectReply(m.receive(start('f1')))).toMatchObject({
        ok: false,
        message: 'no camera',
        duplicate: true,
      });
    });

    test('the same id with a different action is still a duplicate (ids are unique per command)', () => {
      const m = machine();
      expectReply(m.receive(stop('x')));
      expect(expectReply(m.receive(start('x')))).toMatchObject({ action: 'stop', duplicate: true });
    });

    test('memory is bounded: the oldest ids are forgotten first', () => {
      const m = machine(3);
      for (const id of ['a', 'b', 'c', 'd']) expectReply(m.receive(stop(id)));
      expect(m.receive(start('a')).kind).toBe('apply'); // forgotten
      expect(expectReply(m.receive(stop('d'))).duplicate).toBe(true);
      expect(expectReply(m.receive(stop('b'))).duplicate).toBe(true);
    });

    test('1000 ids are remembered by default', () => {
      const m = machine();
      for (let i = 0; i < 1001; i++) expectReply(m.receive(stop(`id-${i}`)));
      expect(m.receive(start('id-0')).kind).toBe('apply');
      expect(expectReply(m.receive(stop('id-1'))).duplicate).toBe(true);
    });
  });

  describe('invalid payloads get an error reply and change nothing', () => {
    test.each([
      ['not JSON', '{"id": "x", action', null, /not valid JSON/],
      ['an array', '[1,2]', null, /must be a JSON object/],
      ['no id', json({ action: 'start' }), null, /id/],
      [
        'an unknown action, with its id',
        json({ id: 'p1', action: 'pause' }),
        'p1',
        /action must be one of start, stop/,
      ],
      ['a bad target', json({ id: 't1', action: 'start', target: 'http://x:1' }), 't1', /target/],
      ['an empty payload', '', null, /not valid JSON/],
      // Refused here, not at the encoder: a start while idle would otherwise end in `error`.
      ['a target port out of range', start('t2', 'udp://127.0.0.1:0'), 't2', /port must be 1-65535/],
      [
        'bytes that are not UTF-8',
        Buffer.from([...Buffer.from('{"id":"'), 0xff, ...Buffer.from('","action":"stop"}')]),
        null,
        /not valid UTF-8/,
      ],
    ])('%s', (_what, payload, commandId, message) => {
      const m = machine();
      const reply = expectReply(m.receive(payload));
      expect(reply).toEqual({ commandId, ok: false, message: expect.stringMatching(message) });
      expect(m.state).toBe('idle');
    });

    test('an invalid payload does not take its id: a valid command with that id is applied', () => {
      const m = machine();
      expectReply(m.receive(json({ id: 'p1', action: 'pause' })));
      expect(m.receive(start('p1')).kind).toBe('apply');
    });

    test('bytes are accepted as well as strings', () => {
      expect(machine().receive(Buffer.from(start('b1'))).kind).toBe('apply');
    });
  });

  test('retained control messages are rejected with the id when readable, and not remembered', () => {
    const m = machine();
    expect(m.rejectRetained(start('r1'))).toEqual({
      commandId: 'r1',
      ok: false,
      message: RETAINED_COMMAND_MESSAGE,
      state: 'idle',
    });
    expect(m.rejectRetained('garbage')).toMatchObject({ commandId: null, ok: false });
    expect(m.receive(start('r1')).kind).toBe('apply');
  });

  test('impossible transitions throw InvalidStateError', () => {
    const m = machine();
    expect(() => m.streaming()).toThrow(InvalidStateError);
    expect(() => m.failed('x', { stillWanted: false })).toThrow(InvalidStateError);
    expect(() => m.retargeted('udp://h:1')).toThrow(InvalidStateError);
  });

  test('rememberCommands must be a positive integer', () => {
    expect(() => machine(-1)).toThrow(RangeError);
  });
});
