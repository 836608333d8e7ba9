import { describe, expect, test } from 'vitest';
import type { StreamInfo } from '@camstream/protocol';
import {
  accessLabel,
  canControl,
  cleanToken,
  covers,
  forbiddenWords,
  gateAfterAuth,
  isForbidden,
  isUnauthorized,
  missingCameraWords,
  NOTICES,
  toAuthInfo,
  viewForAccess,
  visibleCameras,
  type Access,
} from '../src/logic/auth';

const cam = (cameraId: string): StreamInfo => ({ state: 'idle', cameraId, camera: null });
const operator: Access = { role: 'operator', cameras: '*' };
const viewer: Access = { role: 'viewer', cameras: '*' };
const cam2Viewer: Access = { role: 'viewer', cameras: ['cam2'] };

describe('toAuthInfo', () => {
  test('reads the answers of GET /api/auth', () => {
    expect(toAuthInfo({ required: false })).toEqual({ required: false });
    expect(toAuthInfo({ required: true })).toEqual({ required: true });
    expect(toAuthInfo({ required: true, role: 'viewer', cameras: ['cam1'] })).toEqual({
      required: true,
      role: 'viewer',
      cameras: ['cam1'],
    });
    expect(toAuthInfo({ required: true, role: 'operator', cameras: '*', extra: 1 })).toEqual({
      required: true,
      role: 'operator',
      cameras: '*',
    });
  });

  test('refuses what is not one', () => {
    for (const bad of [null, [], 'yes', {}, { required: 'true' }, { required: true, role: 'admin' }]) {
      expect(toAuthInfo(bad)).toBeNull();
    }
    expect(toAuthInfo({ required: true, role: 'viewer', cameras: 'cam1' })).toBeNull();
    expect(toAuthInfo({ required: true, role: 'viewer', cameras: [1] })).toBeNull();
  });
});

describe('gateAfterAuth', () => {
  test('no tokens on the service: the page as always, no token used', () => {
    expect(gateAfterAuth({ ok: true, info: { required: false } }, null)).toEqual({
      kind: 'open',
      access: null,
      token: null,
    });
    expect(gateAfterAuth({ ok: true, info: { required: false } }, 'old')).toMatchObject({ token: null });
  });

  test('a token needed and none stored: the sign-in screen without a notice', () => {
    expect(gateAfterAuth({ ok: true, info: { required: true } }, null)).toEqual({
      kind: 'sign-in',
      notice: null,
    });
  });

  test('a valid token: in, with its role and cameras (all when the answer names none)', () => {
    expect(gateAfterAuth({ ok: true, info: { required: true, role: 'viewer' } }, 'def')).toEqual({
      kind: 'open',
      access: { role: 'viewer', cameras: '*' },
      token: 'def',
    });
    expect(
      gateAfterAuth({ ok: true, info: { required: true, role: 'operator', cameras: ['cam2'] } }, 'abc'),
    ).toEqual({ kind: 'open', access: { role: 'operator', cameras: ['cam2'] }, token: 'abc' });
  });

  test('a stored token refused (401): back to sign-in, saying why', () => {
    expect(gateAfterAuth({ ok: false, status: 401 }, 'old')).toEqual({
      kind: 'sign-in',
      notice: NOTICES.expired,
    });
    expect(gateAfterAuth({ ok: false, status: 401 }, null)).toEqual({ kind: 'sign-in', notice: null });
  });

  test('any other failure (an older service, one not up yet): the page opens as it always did', () => {
    expect(gateAfterAuth({ ok: false, status: 404 }, null)).toEqual({
      kind: 'open',
      access: null,
      token: null,
    });
    expect(gateAfterAuth({ ok: false }, 'abc')).toEqual({ kind: 'open', access: null, token: 'abc' });
  });
});

test('cleanToken: trims, drops a pasted "Bearer ", nothing → null', () => {
  expect(cleanToken('  abc \n')).toBe('abc');
  expect(cleanToken('Bearer abc')).toBe('abc');
  expect(cleanToken('bearer   abc')).toBe('abc');
  expect(cleanToken('   ')).toBeNull();
  expect(cleanToken('Bearer ')).toBeNull();
});

describe('what a token may do', () => {
  test('Start and Stop: no auth or an operator', () => {
    expect(canControl(null)).toBe(true);
    expect(canControl(operator)).toBe(true);
    expect(canControl(viewer)).toBe(false);
  });

  test('cameras covered', () => {
    expect(covers(null, 'cam1')).toBe(true);
    expect(covers(viewer, 'cam1')).toBe(true);
    expect(covers(cam2Viewer, 'cam1')).toBe(false);
    expect(covers(cam2Viewer, 'cam2')).toBe(true);
  });

  test('tiles of cameras not covered are not shown', () => {
    const all = [cam('cam1'), cam('cam2'), cam('cam3')];
    expect(visibleCameras(all, null)).toBe(all);
    expect(visibleCameras(all, viewer)).toBe(all);
    expect(visibleCameras(all, cam2Viewer)).toEqual([cam('cam2')]);
    expect(visibleCameras(null, cam2Viewer)).toBeNull();
  });

  test('a limited token: its one camera opens by id, none leaves the grid; others untouched', () => {
    expect(viewForAccess({ kind: 'single' }, [cam('cam2')], cam2Viewer)).toEqual({
      kind: 'camera',
      cameraId: 'cam2',
    });
    expect(viewForAccess({ kind: 'single' }, [], cam2Viewer)).toEqual({ kind: 'grid', unknownId: null });
    expect(viewForAccess({ kind: 'single' }, [cam('cam1')], viewer)).toEqual({ kind: 'single' });
    expect(viewForAccess({ kind: 'single' }, [cam('cam1')], null)).toEqual({ kind: 'single' });
    expect(viewForAccess({ kind: 'loading' }, null, cam2Viewer)).toEqual({ kind: 'loading' });
  });

  test('the header says who is signed in', () => {
    expect(accessLabel(operator)).toBe('operator · all cameras');
    expect(accessLabel({ role: 'viewer', cameras: ['cam1', 'cam2'] })).toBe('viewer · cam1, cam2');
  });
});

describe('401 and 403 in words', () => {
  test('a viewer refused Start: it may only watch', () => {
    expect(forbiddenWords(viewer, 'control', 'cam1')).toMatch(/may only watch/);
    expect(forbiddenWords(viewer, 'control', undefined)).toMatch(/may only watch/);
  });

  test('a camera the token does not cover is named', () => {
    expect(forbiddenWords({ role: 'operator', cameras: ['cam2'] }, 'control', 'cam1')).toBe(
      'This token does not cover camera cam1.',
    );
    expect(forbiddenWords(cam2Viewer, 'watch', 'cam3')).toBe('This token does not cover camera cam3.');
    expect(missingCameraWords(cam2Viewer, 'cam3')).toBe('This token does not cover camera cam3.');
    expect(missingCameraWords(null, 'cam9')).toBe('There is no camera cam9 here.');
    expect(missingCameraWords(viewer, 'cam9')).toBe('There is no camera cam9 here.');
  });

  test('otherwise a plain refusal', () => {
    expect(forbiddenWords(operator, 'control', undefined)).toBe(
      'This token may not do that with this camera.',
    );
    expect(forbiddenWords(operator, 'control', 'cam1')).toBe('This token may not do that with camera cam1.');
  });

  test('failures are recognised by status or code', () => {
    expect(isUnauthorized({ code: 'WEB_ERR_UNAUTHORIZED', message: '', status: 401 })).toBe(true);
    expect(isUnauthorized({ code: 'HTTP_401', message: '', status: 401 })).toBe(true);
    expect(isUnauthorized({ code: 'CLIENT_ERR_NETWORK', message: '' })).toBe(false);
    expect(isForbidden({ code: 'WEB_ERR_FORBIDDEN', message: '', status: 403 })).toBe(true);
    expect(isForbidden({ code: 'WEB_ERR_CAMERA_OFFLINE', message: '', status: 409 })).toBe(false);
  });
});
