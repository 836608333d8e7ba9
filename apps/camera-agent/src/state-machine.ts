/**
 * The agent's state and command handling, pure: bytes of a control message in, a decision out
 * (a reply to publish now, or an effect for the agent to perform and then settle). No I/O, no timers.
 *
 * States: idle → starting → streaming; error when the encoder failed. A stream is "wanted" from an
 * accepted start until a stop; while it is wanted, the agent restarts a failed encoder by itself.
 */
import { parseControlCommand } from '@camstream/protocol';
import { InvalidStateError } from './errors.js';
import type { CameraState, CommandEvent, ControlCommand } from '@camstream/protocol';

export type AgentState = Exclude<CameraState, 'offline'>;

export type Effect =
  | { readonly type: 'start'; readonly target: string }
  | { readonly type: 'stop' }
  /** Already streaming elsewhere: point the relay at the new target; the encoder keeps running. */
  | { readonly type: 'retarget'; readonly target: string };

export type Decision =
  | { readonly kind: 'reply'; readonly reply: CommandEvent }
  | { readonly kind: 'apply'; readonly command: ControlCommand; readonly effect: Effect };

export type Outcome =
  { readonly ok: true; readonly message?: string } | { readonly ok: false; readonly message: string };

export interface StatusSnapshot {
  readonly state: AgentState;
  /** Where the stream goes (or is meant to go) while it is wanted. */
  readonly target?: string;
  /** Why the state is `error`. */
  readonly message?: string;
}

export interface StateMachineOptions {
  /** Used when a start command has no `target`. */
  readonly defaultTarget: string;
  /** Why a start to `target` is refused, or undefined when it may go there (default: anywhere). */
  readonly refuseTarget?: (target: string) => string | undefined;
  /** How many command ids (with their replies) to remember for duplicate detection. */
  readonly rememberCommands?: number;
}

export const RETAINED_COMMAND_MESSAGE =
  'ignored a retained control message: commands must not be retained, or every reconnect would replay them';

/** The `code` of the reply to a start whose target ALLOWED_TARGETS does not list. */
export const TARGET_NOT_ALLOWED = 'AGENT_ERR_TARGET_NOT_ALLOWED';

export class AgentStateMachine {
  readonly #defaultTarget: string;
  readonly #refuseTarget: (target: string) => string | undefined;
  readonly #remember: number;
  /** Insertion-ordered, so the oldest id is the first key. */
  readonly #replies = new Map<string, CommandEvent>();
  #state: AgentState = 'idle';
  #wanted = false;
  #target: string | undefined;
  #message: string | undefined;

  constructor({
    defaultTarget,
    refuseTarget = () => undefined,
    rememberCommands = 1000,
  }: StateMachineOptions) {
    if (!Number.isInteger(rememberCommands) || rememberCommands < 1) {
      throw new RangeError(`rememberCommands must be a positive integer, got ${rememberCommands}`);
    }
    this.#defaultTarget = defaultTarget;
    this.#refuseTarget = refuseTarget;
    this.#remember = rememberCommands;
  }

  get state(): AgentState {
    return this.#state;
  }

  /** True from an accepted start until a stop (or a start that failed). */
  get wanted(): boolean {
    return this.#wanted;
  }

  get target(): string | undefined {
    return this.#target;
  }

  get status(): StatusSnapshot {
    return {
      state: this.#state,
      ...(this.#target !== undefined && this.#wanted && { target: this.#target }),
      ...(this.#message !== undefined && { message: this.#message }),
    };
  }

  /** Decides what a control message means in the current state. */
  receive(payload: Uint8Array | string): Decision {
    const parsed = parseControlCommand(payload);
    if (!parsed.ok)
      return { kind: 'reply', reply: { commandId: parsed.id, ok: false, message: parsed.error } };
    const command = parsed.value as ControlCommand;
    const earlier = this.#replies.get(command.id);
    if (earlier) return { kind: 'reply', reply: { ...earlier, duplicate: true } };

    const busy = this.#wanted && (this.#state === 'starting' || this.#state === 'streaming');
    if (command.action === 'start') {
      const target = command.target ?? this.#defaultTarget;
      const refusal = this.#refuseTarget(target);
      if (refusal !== undefined) {
        // Nothing changes: a stream that runs keeps its target.
        const reply = { ...this.settle(command, { ok: false, message: refusal }), code: TARGET_NOT_ALLOWED };
        this.#rememberReply(command.id, reply);
        return { kind: 'reply', reply };
      }
      if (!busy) return { kind: 'apply', command, effect: { type: 'start', target } };
      if (target !== this.#target) return { kind: 'apply', command, effect: { type: 'retarget', target } };
      return this.#noop(command, `already ${this.#state} to ${target}`);
    }
    if (this.#state === 'idle' && !this.#wanted) return this.#noop(command, 'already idle');
    return { kind: 'apply', command, effect: { type: 'stop' } };
  }

  /** The reply to a control message that arrived retained (never applied, never remembered). */
  rejectRetained(payload: Uint8Array | string): CommandEvent {
    const parsed = parseControlCommand(payload);
    const commandId = parsed.ok ? parsed.value.id : parsed.id;
    return { commandId, ok: false, message: RETAINED_COMMAND_MESSAGE, state: this.#state };
  }

  /** The reply to an applied command, once its effect is done; remembered for duplicates. */
  settle(command: ControlCommand, outcome: Outcome): CommandEvent {
    const reply: CommandEvent = {
      commandId: command.id,
      ok: outcome.ok,
      action: command.action,
      state: this.#state,
      ...(outcome.message !== undefined && { message: outcome.message }),
    };
    this.#rememberReply(command.id, reply);
    return reply;
  }

  /** The encoder is being started for `target` (by a command or by a restart). */
  starting(target: string): void {
    this.#state = 'starting';
    this.#wanted = true;
    this.#target = target;
    this.#message = undefined;
  }

  /** The first data arrived. */
  streaming(): void {
    if (this.#state !== 'starting') throw new InvalidStateError(`cannot stream from state ${this.#state}`);
    this.#state = 'streaming';
  }

  /**
   * The encoder failed. `stillWanted`: the agent will restart it (it died while streaming);
   * otherwise the stream is given up (a commanded start failed).
   */
  failed(message: string, { stillWanted }: { stillWanted: boolean }): void {
    if (this.#state === 'idle') throw new InvalidStateError('cannot fail from state idle');
    this.#state = 'error';
    this.#wanted = stillWanted;
    this.#message = message;
  }

  retargeted(target: string): void {
    if (!this.#wanted) throw new InvalidStateError(`cannot retarget from state ${this.#state}`);
    this.#target = target;
  }

  stopped(): void {
    this.#state = 'idle';
    this.#wanted = false;
    this.#target = undefined;
    this.#message = undefined;
  }

  #noop(command: ControlCommand, message: string): Decision {
    return { kind: 'reply', reply: this.settle(command, { ok: true, message }) };
  }

  #rememberReply(id: string, reply: CommandEvent): void {
    this.#replies.set(id, reply);
    if (this.#replies.size > this.#remember) this.#replies.delete(this.#replies.keys().next().value!);
  }
}
