// End-to-end tier: test/e2e/*.e2e.test.ts drive a real VS Code (code-server) through Chromium,
// one spec file at a time (each starts its own code-server).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './code-server.mjs';
import { nodeTestTier } from './node-test.mjs';

export const name = 'e2e';

export async function run() {
  const dir = join(root, 'test', 'e2e');
  const specs = readdirSync(dir)
    .filter((f) => f.endsWith('.e2e.test.ts'))
    .sort()
    .map((f) => join(dir, f));
  return nodeTestTier(root, specs, ['--test-concurrency=1', '--test-timeout=300000']);
}
