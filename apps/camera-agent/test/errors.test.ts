/** The agent's error registry is documented: docs/errors.md lists every code. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { AGENT_ERROR_CODES } from '../src/errors.js';

test('docs/errors.md lists every AGENT_ERR code', async () => {
  const doc = await readFile(join(import.meta.dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
  const agentSection = doc.slice(doc.indexOf('# Camera agent errors'));
  expect(agentSection.length).toBeLessThan(doc.length);
  for (const code of Object.keys(AGENT_ERROR_CODES)) {
    expect(code).toMatch(/^AGENT_ERR_[A-Z_]+$/);
    expect(agentSection).toContain(`| \`${code}\``);
  }
});
