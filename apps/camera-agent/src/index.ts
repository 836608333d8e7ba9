/** The camera agent's public API: embed it (`startAgent`) or run it with `camstream-agent` (main.ts). */
export { startAgent, Agent, type AgentOptions, type AgentEvents } from './agent.js';
export {
  loadAgentConfig,
  AGENT_ENV_VARS,
  AGENT_CONFIG_DEFAULTS,
  CAMERA_SOURCES,
  type AgentConfig,
  type CameraSource,
  type EnvVarDoc,
  type VideoSettings,
} from './config.js';
export {
  AgentError,
  ConfigError,
  EncoderStartError,
  InvalidStateError,
  AGENT_ERROR_CODES,
  type AgentErrorCode,
} from './errors.js';
export { createLogger, silentLogger, type Logger, type LogLevel } from './logger.js';
export { Pipeline, type PipelineOptions, type PipelineExit, type PipelineEvents } from './pipeline.js';
export { buildEncoderCommand, type EncoderCommand, type SourceEnvironment } from './sources/index.js';
