/**
 * A tiny structured logger: one line per entry on stderr, `<time> <level> <message> <fields as JSON>`.
 * stdout stays free; systemd's journal and the demo's supervisor read stderr line by line.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to process.stderr. */
  write?: (line: string) => void;
  /** Prefixed to every message, e.g. `pipeline`. */
  name?: string;
}

function serialize(fields: LogFields): string {
  return JSON.stringify(fields, (_key, value: unknown) =>
    value instanceof Error ? { name: value.name, message: value.message, code: errorCode(value) } : value,
  );
}

function errorCode(error: Error): unknown {
  return (error as { code?: unknown }).code;
}

export function createLogger({
  level = 'info',
  write = (line) => process.stderr.write(line),
  name,
}: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const at = (entryLevel: LogLevel) => (message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(entryLevel) < threshold) return;
    const text = name ? `${name}: ${message}` : message;
    const defined = Object.entries(fields ?? {}).filter(([, value]) => value !== undefined);
    const extra = defined.length > 0 ? ` ${serialize(Object.fromEntries(defined))}` : '';
    write(`${new Date().toISOString()} ${entryLevel.padEnd(5)} ${text}${extra}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
