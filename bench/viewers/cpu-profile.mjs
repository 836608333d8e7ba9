/**
 * Preloaded into the web service (NODE_OPTIONS=--import, where --cpu-prof is not allowed) when a
 * step is profiled: V8's sampling profiler through node:inspector, from start-up until the process
 * exits, written to $CAMSTREAM_PROFILE_DIR/service-<pid>.cpuprofile (the format --cpu-prof writes).
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.CAMSTREAM_PROFILE_DIR;
// Only the service: ffmpeg ignores NODE_OPTIONS, and no other Node process is started with it.
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // An in-thread session answers synchronously: the profile is written before the process ends.
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `service-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
