export { buildApp, type BuildAppOptions, type ServiceHandles } from './app.js';
export {
  loadServiceConfig,
  SERVICE_CONFIG_VARIABLES,
  LOG_LEVELS,
  type ServiceConfig,
  type ConfigVariable,
  type LogLevel,
} from './config.js';
export {
  ERRORS,
  ERROR_CODES,
  ServiceError,
  InvalidStateError,
  createError,
  isServiceError,
  toErrorBody,
  type ErrorCode,
} from './errors.js';
