import { describe, expect, test } from 'vitest';
import { CLIENT_ERRORS, describeError, failureFromResponse } from '../src/logic/errors';

describe('describeError', () => {
  test('the camera being offline is told in plain words, with what to check', () => {
    const shown = describeError({ code: 'WEB_ERR_CAMERA_OFFLINE', message: 'camera cam1 is offline' });
    expect(shown).toEqual({
      code: 'WEB_ERR_CAMERA_OFFLINE',
      message: 'The camera is offline. Check that the camera agent is running and connected to the broker.',
    });
  });

  test.each([
    ['WEB_ERR_CAMERA_REJECTED', /refused/],
    ['WEB_ERR_MANIFEST_TIMEOUT', /No video reached the server in time/],
    ['WEB_ERR_SEGMENTER_FAILED', /could not package the video/],
    ['WEB_ERR_SHUTTING_DOWN', /shutting down/],
    ['WEB_ERR_BAD_REQUEST', /did not understand/],
    [CLIENT_ERRORS.network, /Could not reach the web service/],
    [CLIENT_ERRORS.timeout, /did not answer in time/],
  ])('%s has its own words', (code, words) => {
    expect(describeError({ code, message: 'x' }).message).toMatch(words);
  });

  test("the camera's reason is kept where it helps", () => {
    const shown = describeError({
      code: 'WEB_ERR_CAMERA_REJECTED',
      message: 'rpicam-vid: no cameras available',
    });
    expect(shown.detail).toBe('rpicam-vid: no cameras available');
  });

  test("an unknown code shows the service's own message", () => {
    expect(describeError({ code: 'WEB_ERR_NEW_THING', message: ' Something new broke ' })).toEqual({
      code: 'WEB_ERR_NEW_THING',
      message: 'Something new broke',
    });
    expect(describeError({ code: 'WEB_ERR_NEW_THING', message: '' }).message).toBe('Something went wrong.');
  });
});

describe('failureFromResponse', () => {
  test("reads the service's error body", () => {
    const body = JSON.stringify({
      statusCode: 504,
      code: 'WEB_ERR_MANIFEST_TIMEOUT',
      error: 'Gateway Timeout',
      message: 'no playable playlist within 10000 ms',
    });
    expect(failureFromResponse(504, body)).toEqual({
      code: 'WEB_ERR_MANIFEST_TIMEOUT',
      message: 'no playable playlist within 10000 ms',
      status: 504,
    });
  });

  test('anything else becomes an HTTP_<status> failure with the start of the text', () => {
    expect(failureFromResponse(502, '<html>Bad Gateway</html>')).toEqual({
      code: 'HTTP_502',
      message: 'HTTP 502: <html>Bad Gateway</html>',
      status: 502,
    });
    expect(failureFromResponse(500, '')).toMatchObject({
      code: 'HTTP_500',
      message: expect.stringMatching(/500/),
    });
    expect(failureFromResponse(500, '{"code": 3}').code).toBe('HTTP_500');
  });
});
