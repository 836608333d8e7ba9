import { expect, test } from 'vitest';
import { cameraTopics } from '@camstream/protocol';
test('resolves source', () => {
  expect(cameraTopics('cam1').control).toBe('cameras/cam1/control');
});
