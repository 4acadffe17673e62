// End-to-end tier: test/e2e/*.e2e.test.ts drive a real VS Code (code-server) through Chromium,
// one spec file at a time (each starts its own code-server).
//
// A spec file that fails is run once more from a fresh code-server (MLLOOP_E2E_RETRIES, default 1;
// 0 turns it off), as Playwright's own runner does on CI: a real UI on a loaded 2-core machine
// sometimes drops a key press. The retry's result counts, and every retried file is listed in the
// summary as flaky so that no flake goes unnoticed.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { root } from './code-server.mjs';
import { nodeTestTier } from './node-test.mjs';

export const name = 'e2e';

export async function run() {
  const dir = join(root, 'test', 'e2e');
  const only = process.env.MLLOOP_E2E_ONLY; // a substring of the spec files to run
  const specs = readdirSync(dir)
    .filter((f) => f.endsWith('.e2e.test.ts') && (!only || f.includes(only)))
    .sort()
    .map((f) => join(dir, f));
  const retries = Number(process.env.MLLOOP_E2E_RETRIES ?? 1);
  const total = { passed: 0, failed: 0, skipped: 0, notes: [] };
  for (const spec of specs) {
    let r = nodeTestTier(root, [spec], ['--test-concurrency=1', '--test-timeout=300000']);
    for (let attempt = 1; r.failed > 0 && attempt <= retries; attempt++) {
      const firstFailed = r.failed;
      console.log(
        `\n=== e2e: ${relative(root, spec)} failed ${firstFailed} test(s); running it again (retry ${attempt} of ${retries}) ===`,
      );
      r = nodeTestTier(root, [spec], ['--test-concurrency=1', '--test-timeout=300000']);
      total.notes.push(
        `flaky: ${relative(root, spec)} failed ${firstFailed} test(s), then ${r.failed > 0 ? `failed ${r.failed} again` : 'passed'} on retry ${attempt}`,
      );
    }
    for (const k of ['passed', 'failed', 'skipped']) total[k] += r[k];
  }
  return total;
}
