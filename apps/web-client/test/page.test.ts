import { describe, expect, test } from 'vitest';
import type { StreamInfo } from '@camstream/protocol';
import { pageView, requestedCamera, searchWithCamera, type CameraListState } from '../src/logic/page';

const cam = (cameraId: string): StreamInfo => ({ state: 'idle', cameraId, camera: null });
const listed = (...ids: string[]): CameraListState => ({ cameras: ids.map(cam), unavailable: false });

describe('pageView', () => {
  test('one camera: today’s single-camera page', () => {
    expect(pageView(listed('cam1'), '')).toEqual({ kind: 'single' });
    expect(pageView(listed('cam1'), '?stats=1')).toEqual({ kind: 'single' });
  });

  test('several cameras: the grid', () => {
    expect(pageView(listed('cam1', 'cam2'), '')).toEqual({ kind: 'grid', unknownId: null });
    expect(pageView(listed('cam1', 'cam2', 'cam3'), '?camera=')).toEqual({ kind: 'grid', unknownId: null });
  });

  test('?camera=<id>: that camera large, with one camera or many', () => {
    expect(pageView(listed('cam1', 'cam2'), '?camera=cam2')).toEqual({ kind: 'camera', cameraId: 'cam2' });
    expect(pageView(listed('cam1'), '?camera=cam1')).toEqual({ kind: 'camera', cameraId: 'cam1' });
    expect(pageView(listed('cam1', 'a.b_c-d'), '?stats=1&camera=a.b_c-d')).toEqual({
      kind: 'camera',
      cameraId: 'a.b_c-d',
    });
  });

  test('an unknown or impossible id: the grid with the id to name in a message', () => {
    expect(pageView(listed('cam1', 'cam2'), '?camera=cam9')).toEqual({ kind: 'grid', unknownId: 'cam9' });
    // Even with one camera: the message needs the grid's list to point at.
    expect(pageView(listed('cam1'), '?camera=cam9')).toEqual({ kind: 'grid', unknownId: 'cam9' });
    expect(pageView(listed('cam1', 'cam2'), '?camera=..%2Fetc')).toEqual({
      kind: 'grid',
      unknownId: '../etc',
    });
  });

  test('before the list arrives: loading', () => {
    expect(pageView({ cameras: null, unavailable: false }, '')).toEqual({ kind: 'loading' });
    expect(pageView({ cameras: null, unavailable: false }, '?camera=cam2')).toEqual({ kind: 'loading' });
  });

  test('no list (the service does not answer it): the single page, or the linked camera if its id can be one', () => {
    const none = { cameras: null, unavailable: true };
    expect(pageView(none, '')).toEqual({ kind: 'single' });
    expect(pageView(none, '?camera=cam2')).toEqual({ kind: 'camera', cameraId: 'cam2' });
    expect(pageView(none, '?camera=a%2Fb')).toEqual({ kind: 'single' });
    expect(pageView(none, '?camera=..')).toEqual({ kind: 'single' });
  });

  test('a camera that goes away while shown large: the message and the grid', () => {
    expect(pageView(listed('cam1', 'cam3'), '?camera=cam2')).toEqual({ kind: 'grid', unknownId: 'cam2' });
  });

  test('no cameras at all: the single page (it explains what is missing)', () => {
    expect(pageView(listed(), '')).toEqual({ kind: 'single' });
  });
});

describe('the deep link', () => {
  test('requestedCamera reads ?camera=', () => {
    expect(requestedCamera('')).toBeNull();
    expect(requestedCamera('?camera=')).toBeNull();
    expect(requestedCamera('?camera=cam2')).toBe('cam2');
    expect(requestedCamera('?stats=1&camera=cam%203')).toBe('cam 3');
  });

  test('searchWithCamera sets and removes it, keeping the other parameters', () => {
    expect(searchWithCamera('', 'cam2')).toBe('?camera=cam2');
    expect(searchWithCamera('?stats=1', 'cam2')).toBe('?stats=1&camera=cam2');
    expect(searchWithCamera('?camera=cam1&stats=1', 'cam2')).toBe('?camera=cam2&stats=1');
    expect(searchWithCamera('?camera=cam2', null)).toBe('');
    expect(searchWithCamera('?stats=1&camera=cam2', null)).toBe('?stats=1');
    // Round trip through the parser.
    expect(requestedCamera(searchWithCamera('', 'a.b_c-d'))).toBe('a.b_c-d');
  });
});

describe('a camera appearing while the single-camera page is on screen', () => {
  test('the page stays (with a link to the grid) until the person navigates', () => {
    expect(pageView(listed('cam1', 'cam2'), '', true)).toEqual({ kind: 'single' });
    expect(pageView(listed('cam1', 'cam2'), '', false)).toEqual({ kind: 'grid', unknownId: null });
  });

  test('a deep link is followed all the same', () => {
    expect(pageView(listed('cam1', 'cam2'), '?camera=cam2', true)).toEqual({
      kind: 'camera',
      cameraId: 'cam2',
    });
    expect(pageView(listed('cam1', 'cam2'), '?camera=cam9', true)).toEqual({
      kind: 'grid',
      unknownId: 'cam9',
    });
  });
});
