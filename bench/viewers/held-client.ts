/**
 * The viewers of held.ts: two raw keep-alive sockets each (playlists, media). On each `cycle` message
 * every viewer sends the blocking reload and the hinted part; once all answers are in, `answered`
 * (with how many were not 200). Answers are counted by their status lines, never parsed further:
 * the client should cost as little as it can beside the service.
 */
import { connect, type Socket } from 'node:net';

const port = Number(process.argv[2]);
const viewers = Number(process.argv[3]);
let expected = 0;
let received = 0;
let notOk = 0;

const open = (): Promise<Socket> =>
  new Promise((done, fail) => {
    const socket = connect(port, '127.0.0.1', () => done(socket));
    socket.setNoDelay(true);
    socket.once('error', fail);
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      for (let at = text.indexOf('HTTP/1.1 '); at !== -1; at = text.indexOf('HTTP/1.1 ', at + 1)) {
        received += 1;
        if (text.slice(at + 9, at + 12) !== '200') notOk += 1;
      }
      if (expected > 0 && received >= expected) {
        expected = 0;
        process.send!({ type: 'answered', notOk });
        notOk = 0;
      }
    });
  });

const playlists: Socket[] = [];
const media: Socket[] = [];
for (let i = 0; i < viewers; i += 1) {
  playlists.push(await open());
  media.push(await open());
}

process.on('message', (message: { type: string; playlist: string; part: string }) => {
  if (message.type !== 'cycle') return;
  received = 0;
  expected = 2 * viewers;
  const playlist = `GET ${message.playlist} HTTP/1.1\r\nHost: bench\r\n\r\n`;
  const part = `GET ${message.part} HTTP/1.1\r\nHost: bench\r\n\r\n`;
  for (let i = 0; i < viewers; i += 1) {
    playlists[i]!.write(playlist);
    media[i]!.write(part);
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready' });
