/**
 * Renders a Home Assistant template with real Jinja2 (python3), in the sandbox Home Assistant's own
 * template environment derives from, with the few helpers our templates use written as Home Assistant
 * defines them: the `from_json` and `to_json` filters and the `now()` global. `value` and `value_json`
 * are given as Home Assistant's MQTT integration gives them (`value_json` only when the payload is
 * JSON). Not Home Assistant itself: a check that the templates are valid Jinja and do what we mean.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const SCRIPT = `
import datetime, json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
env = ImmutableSandboxedEnvironment()
env.filters['from_json'] = json.loads
env.filters['to_json'] = lambda obj: json.dumps(obj, separators=(',', ':'))
env.globals['now'] = lambda: datetime.datetime.now(datetime.timezone.utc)
def render(template, value):
    variables = {'value': value}
    try:
        variables['value_json'] = json.loads(value)
    except ValueError:
        pass
    return env.from_string(template).render(**variables)
sys.stdout.write(json.dumps([render(t, v) for t, v in json.load(sys.stdin)]))
`;

/**
 * True when python3 can import jinja2 (Debian: python3-jinja2); otherwise throws under CI, or warns
 * and returns false (as haveTools does).
 */
export function haveJinja(): boolean {
  try {
    execFileSync('python3', ['-c', 'import jinja2'], { stdio: 'ignore' });
    return true;
  } catch {
    const message =
      'missing python3 with jinja2 (Debian: python3-jinja2): install it (npm test does) to run this suite';
    if (process.env.CI === 'true') throw new Error(`${message}; CI must not skip it`);
    console.warn(`\n*** SKIPPING: ${message} ***\n`);
    return false;
  }
}

/** Renders each [template, value] pair, all in one python3 (each start costs a good part of a second). */
export async function renderTemplates(
  pairs: readonly (readonly [template: string, value: string])[],
): Promise<string[]> {
  const python = execFileAsync('python3', ['-c', SCRIPT]);
  python.child.stdin!.end(JSON.stringify(pairs));
  const { stdout } = await python;
  return JSON.parse(stdout) as string[];
}
