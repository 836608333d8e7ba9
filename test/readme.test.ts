/** README.md stays true: every configuration variable the apps read is documented with its default. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AGENT_ENV_VARS } from '@camstream/camera-agent';
import { SERVICE_CONFIG_VARIABLES } from '@camstream/web-service';
import { describe, expect, test } from 'vitest';
import { ROOT } from './helpers/system.js';

const readme = await readFile(join(ROOT, 'README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`### ${title}`);
  expect(start, `README has a "### ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n#', start + 4);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README configuration tables', () => {
  test.each([
    ['Web service', SERVICE_CONFIG_VARIABLES],
    ['Camera agent', AGENT_ENV_VARS],
  ] as const)('%s: every variable, with its default', (title, variables) => {
    const table = section(title);
    const documented = [...table.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]);
    expect(documented).toEqual(variables.map((v) => v.name));
    for (const variable of variables) {
      const row = table
        .split('\n')
        .find((line) => new RegExp(`^\\|\\s*\`${variable.name}\`\\s*\\|`).test(line))!;
      // Defaults that depend on the machine (temp dir, install path) are written generically.
      if (variable.default && !variable.default.startsWith('/'))
        expect(row).toContain(`\`${variable.default}\``);
    }
  });

  test('the two commands are there', () => {
    expect(readme).toMatch(/^npm start\b/m);
    expect(readme).toMatch(/^npm test\b/m);
  });
});
