import { expect, test } from 'vitest';
import { SseParser } from '../src/logic/sse';

test('named events, the default type, multi-line data and comments', () => {
  const parser = new SseParser();
  const events = parser.push(
    ': hello\n\nevent: stream\ndata: {"a":1}\n\ndata: one\ndata: two\nid: 7\n\nevent: removed\ndata:x\n\n',
  );
  expect(events).toEqual([
    { type: 'stream', data: '{"a":1}', lastEventId: '' },
    { type: 'message', data: 'one\ntwo', lastEventId: '7' },
    { type: 'removed', data: 'x', lastEventId: '7' },
  ]);
});

test('events split across chunks anywhere, CRLF and CR line ends', () => {
  const text = 'event: camera\r\ndata: {"id":"cam1"}\r\n\r\nevent: camera\rdata: 2\r\r';
  for (let cut = 0; cut <= text.length; cut++) {
    const parser = new SseParser();
    const events = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['camera', '{"id":"cam1"}'],
      ['camera', '2'],
    ]);
  }
});

test('an event without data is not dispatched; an unfinished one waits; retry is kept', () => {
  const parser = new SseParser();
  expect(parser.push('event: stream\n\nretry: 1500\n\ndata: half')).toEqual([]);
  expect(parser.retryMs).toBe(1500);
  expect(parser.push('\n\n')).toEqual([{ type: 'message', data: 'half', lastEventId: '' }]);
  parser.push('retry: soon\n\n');
  expect(parser.retryMs).toBe(1500);
});
