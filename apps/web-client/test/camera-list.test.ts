import { describe, expect, test } from 'vitest';
import type { StreamInfo } from '@camstream/protocol';
import { parseCamerasEvent, reduceCameras, toCameraList, type CamerasEvent } from '../src/logic/cameras';

const at = '2025-01-01T00:00:00.000Z';
const cam = (cameraId: string, extra: Partial<StreamInfo> = {}): StreamInfo => ({
  state: 'idle',
  cameraId,
  camera: { state: 'idle', at },
  ...extra,
});
const ids = (list: readonly StreamInfo[] | null) => list?.map((c) => c.cameraId) ?? null;
const apply = (start: readonly StreamInfo[] | null, ...events: CamerasEvent[]) =>
  events.reduce(reduceCameras, start);

describe('reduceCameras', () => {
  test('the service’s first burst builds the list: the first camera first, the others by id', () => {
    const list = apply(
      null,
      { type: 'camera', info: cam('zeta') },
      { type: 'camera', info: cam('cam3') },
      { type: 'camera', info: cam('cam2') },
    );
    expect(ids(list)).toEqual(['zeta', 'cam2', 'cam3']);
  });

  test('a change replaces that camera in place, the others untouched (same objects)', () => {
    const before = [cam('cam1'), cam('cam2'), cam('cam3')];
    const after = reduceCameras(before, { type: 'camera', info: cam('cam2', { state: 'live' }) })!;
    expect(after.map((c) => c.state)).toEqual(['idle', 'live', 'idle']);
    expect(after[0]).toBe(before[0]);
    expect(after[2]).toBe(before[2]);
    expect(before[1]!.state).toBe('idle'); // not mutated
  });

  test('a camera appearing later is placed by id after the first', () => {
    const list = apply([cam('cam1'), cam('cam3')], { type: 'camera', info: cam('cam2') });
    expect(ids(list)).toEqual(['cam1', 'cam2', 'cam3']);
    expect(ids(apply([cam('cam5')], { type: 'camera', info: cam('cam0') }))).toEqual(['cam5', 'cam0']);
  });

  test('removed drops the camera; an unknown id changes nothing', () => {
    const before = [cam('cam1'), cam('cam2')];
    expect(ids(reduceCameras(before, { type: 'removed', cameraId: 'cam2' }))).toEqual(['cam1']);
    expect(reduceCameras(before, { type: 'removed', cameraId: 'cam9' })).toBe(before);
    expect(reduceCameras(null, { type: 'removed', cameraId: 'cam1' })).toBeNull();
  });

  test('a list replaces everything; prune keeps only the named cameras', () => {
    const before = [cam('cam1'), cam('cam2'), cam('cam3')];
    expect(ids(reduceCameras(before, { type: 'list', cameras: [cam('cam1')] }))).toEqual(['cam1']);
    expect(ids(reduceCameras(before, { type: 'prune', keep: new Set(['cam1', 'cam3']) }))).toEqual([
      'cam1',
      'cam3',
    ]);
    expect(reduceCameras(before, { type: 'prune', keep: new Set(['cam1', 'cam2', 'cam3']) })).toBe(before);
  });
});

describe('reading the wire', () => {
  test('toCameraList takes { cameras: StreamInfo[] } and nothing else', () => {
    expect(ids(toCameraList({ cameras: [cam('cam1'), cam('cam2')] }))).toEqual(['cam1', 'cam2']);
    expect(toCameraList({ cameras: [] })).toEqual([]);
    expect(toCameraList({ cameras: [cam('cam1'), { state: 'idle' }] })).toBeNull();
    expect(toCameraList([cam('cam1')])).toBeNull();
    expect(toCameraList(null)).toBeNull();
  });

  test('parseCamerasEvent: camera and removed events; bad data is ignored', () => {
    expect(parseCamerasEvent('camera', JSON.stringify(cam('cam2')))).toEqual({
      type: 'camera',
      info: cam('cam2'),
    });
    expect(parseCamerasEvent('removed', '{"cameraId":"cam2"}')).toEqual({
      type: 'removed',
      cameraId: 'cam2',
    });
    expect(parseCamerasEvent('camera', '{"state":"idle"}')).toBeNull();
    expect(parseCamerasEvent('camera', 'not json')).toBeNull();
    expect(parseCamerasEvent('removed', 'null')).toBeNull();
    expect(parseCamerasEvent('removed', '{"cameraId":7}')).toBeNull();
    expect(parseCamerasEvent('stream', JSON.stringify(cam('cam2')))).toBeNull();
  });
});
