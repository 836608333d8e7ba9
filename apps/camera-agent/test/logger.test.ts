import { describe, expect, test } from 'vitest';
import { createLogger } from '../src/logger.js';

function capture(level: 'debug' | 'info' | 'warn' | 'error', name?: string) {
  const lines: string[] = [];
  const logger = createLogger({ level, write: (line) => lines.push(line), ...(name && { name }) });
  return { logger, lines };
}

describe('createLogger', () => {
  test('one line per entry: time, level, message, fields as JSON', () => {
    const { logger, lines } = capture('info');
    logger.info('state streaming', { pid: 42 });
    expect(lines).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z info {2}state streaming \{"pid":42\}\n$/),
    ]);
  });

  test('entries below the level are dropped', () => {
    const { logger, lines } = capture('warn');
    logger.debug('a');
    logger.info('b');
    logger.warn('c');
    logger.error('d');
    expect(lines.map((l) => l.split(' ').slice(1).join(' ').trim())).toEqual(['warn  c', 'error d']);
  });

  test('errors are logged by name, message and code; a name prefixes messages', () => {
    const { logger, lines } = capture('debug', 'agent');
    const err = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    logger.error('cannot connect', { err });
    expect(lines[0]).toContain(
      'agent: cannot connect {"err":{"name":"Error","message":"refused","code":"ECONNREFUSED"}}',
    );
  });

  test('fields that are undefined are left out', () => {
    const { logger, lines } = capture('info');
    logger.info('command c1: start', { target: undefined });
    logger.info('command c2: start', { target: 'udp://h:1', duplicate: undefined });
    expect(lines[0]).toMatch(/command c1: start\n$/);
    expect(lines[1]).toMatch(/command c2: start \{"target":"udp:\/\/h:1"\}\n$/);
  });
});
