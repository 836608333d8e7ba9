import { describe, expect, test } from 'vitest';
import { cameraTopics, DEFAULT_CAMERA_ID, isValidCameraId, parseCameraTopic } from '@camstream/protocol';

describe('camera topics', () => {
  test('spells the three topics of the contract', () => {
    expect(cameraTopics(DEFAULT_CAMERA_ID)).toEqual({
      control: 'cameras/cam1/control',
      status: 'cameras/cam1/status',
      events: 'cameras/cam1/events',
    });
  });

  test.each(['', 'a/b', 'cam+', 'cam#', 'with space', 'x'.repeat(65), '.', '..', '...'])(
    'rejects camera id %j',
    (id) => {
      expect(isValidCameraId(id)).toBe(false);
      expect(() => cameraTopics(id)).toThrow(/invalid camera id/);
    },
  );

  test('parses its own topics and nothing else', () => {
    expect(parseCameraTopic('cameras/front-door/status')).toEqual({ cameraId: 'front-door', kind: 'status' });
    expect(parseCameraTopic('cameras/cam1/other')).toBeUndefined();
    expect(parseCameraTopic('cameras/cam1/status/extra')).toBeUndefined();
    expect(parseCameraTopic('robots/cam1/status')).toBeUndefined();
    expect(parseCameraTopic('cameras/../status')).toBeUndefined();
    expect(parseCameraTopic('cameras/v1.2/status')).toEqual({ cameraId: 'v1.2', kind: 'status' });
  });
});
