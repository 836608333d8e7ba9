import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createError, ERROR_CODES, ERRORS, toErrorBody } from '../src/errors.js';

describe('the error registry', () => {
  test('codes are WEB_ERR_*, statuses are HTTP errors, and docs/errors.md lists each code', async () => {
    const doc = await readFile(join(import.meta.dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^WEB_ERR_[A-Z_]+$/);
      expect(ERRORS[code].statusCode).toBeGreaterThanOrEqual(400);
      expect(doc).toContain(`\`${code}\``);
    }
  });

  test('the brief’s statuses', () => {
    expect(ERRORS.WEB_ERR_CAMERA_OFFLINE.statusCode).toBe(503);
    expect(ERRORS.WEB_ERR_CAMERA_REJECTED.statusCode).toBe(502);
    expect(ERRORS.WEB_ERR_MANIFEST_TIMEOUT.statusCode).toBe(504);
    expect(ERRORS.WEB_ERR_SEGMENTER_FAILED.statusCode).toBe(500);
    expect(ERRORS.WEB_ERR_SHUTTING_DOWN.statusCode).toBe(503);
    expect(ERRORS.WEB_ERR_BAD_REQUEST.statusCode).toBe(400);
    expect(ERRORS.WEB_ERR_NOT_FOUND.statusCode).toBe(404);
  });

  test('messages are filled from their template; bodies have the protocol’s shape', () => {
    const error = createError('WEB_ERR_CAMERA_REJECTED', 'cam1', 'start', 'encoder busy');
    expect(error).toMatchObject({ code: 'WEB_ERR_CAMERA_REJECTED', statusCode: 502 });
    expect(error.message).toBe('camera cam1 refused to start: encoder busy');
    expect(toErrorBody(error)).toEqual({
      statusCode: 502,
      code: 'WEB_ERR_CAMERA_REJECTED',
      error: 'Bad Gateway',
      message: 'camera cam1 refused to start: encoder busy',
    });
  });

  test('unknown errors are internal and do not leak their message', () => {
    expect(toErrorBody(new Error('secret path /etc/x'))).toEqual({
      statusCode: 500,
      code: 'WEB_ERR_INTERNAL',
      error: 'Internal Server Error',
      message: 'internal error: see the service log',
    });
  });
});
