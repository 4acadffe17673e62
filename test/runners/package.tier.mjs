// Package tier: a production build packaged for every target (npm run package:all; other platforms'
// binaries come from the npm registry once, then from .cache/natives/), then test/package/*.test.ts
// opens each .vsix. It replaces dist/ with the production build, so it runs after the tiers that use
// the development one.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './code-server.mjs';
import { nodeTestTier } from './node-test.mjs';

export const name = 'package';

export async function run() {
  for (const args of [
    ['src/build/build.mjs', '--production', '--no-typecheck'],
    ['src/build/package.mjs', '--all'],
  ]) {
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status}`);
    // vsce's warnings (too many files, no .vscodeignore, a missing LICENSE…) fail the tier.
    const warnings = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /\bWARNING\b/.test(l));
    if (warnings.length) throw new Error(`node ${args.join(' ')} warned:\n${warnings.join('\n')}`);
  }
  const dir = join(root, 'test', 'package');
  const specs = readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f));
  return nodeTestTier(root, specs);
}
