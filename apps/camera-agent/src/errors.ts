/**
 * The agent's error registry: every error it throws or reports carries a stable code, so callers
 * and logs can tell failures apart without parsing messages.
 */

export const AGENT_ERROR_CODES = {
  /** The environment holds invalid settings; the message lists every problem. */
  AGENT_ERR_CONFIG: 'invalid configuration',
  /** A method was called on an object that was closed (or is not in a state that allows it). */
  AGENT_ERR_INVALID_STATE: 'invalid state',
  /** The encoder could not be started, exited before sending data, or sent nothing in time. */
  AGENT_ERR_ENCODER_START: 'the encoder did not start',
  /** The broker refused the connection (bad credentials, not authorized). Retrying cannot help. */
  AGENT_ERR_MQTT_REFUSED: 'the MQTT broker refused the connection',
  /** A start command named a target that ALLOWED_TARGETS does not list (the reply's `code`). */
  AGENT_ERR_TARGET_NOT_ALLOWED: 'the target is not allowed',
} as const;

export type AgentErrorCode = keyof typeof AGENT_ERROR_CODES;

export class AgentError extends Error {
  readonly code: AgentErrorCode;

  constructor(code: AgentErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
  }
}

export class ConfigError extends AgentError {
  /** Each problem on its own, e.g. `VIDEO_FPS: expected an integer from 1 to 120, got "abc"`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('AGENT_ERR_CONFIG', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

/** Thrown by calls made after `close()` (mediasoup's InvalidStateError). */
export class InvalidStateError extends AgentError {
  constructor(message: string) {
    super('AGENT_ERR_INVALID_STATE', message);
    this.name = 'InvalidStateError';
  }
}

/** Why `Pipeline.start()` failed. */
export type EncoderStartFailure = 'spawn' | 'exit' | 'timeout' | 'closed';

export class EncoderStartError extends AgentError {
  readonly reason: EncoderStartFailure;

  constructor(reason: EncoderStartFailure, message: string, options?: ErrorOptions) {
    super('AGENT_ERR_ENCODER_START', message, options);
    this.name = 'EncoderStartError';
    this.reason = reason;
  }
}
