// Runs node's test runner on files and reads its TAP output into { passed, failed, skipped }.
// Shared by run-all's unit tier and the e2e tier.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';

export function nodeTestTier(root, files, extraArgs = []) {
  const tapFile = join(mkdtempSync(join(tmpdir(), 'mlloop-tap-')), 'out.tap');
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tapFile}`,
      ...extraArgs,
      ...files.map((f) => relative(root, f)),
    ],
    { cwd: root, stdio: 'inherit' },
  );
  const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
  const count = (k) => Number((tap.match(new RegExp(`^# ${k} (\\d+)`, 'm')) ?? [])[1] ?? 0);
  const res = {
    passed: count('pass'),
    failed: count('fail') + count('cancelled'),
    skipped: count('skipped') + count('todo'),
  };
  if (r.status !== 0 && res.failed === 0) res.failed = 1; // the runner itself failed
  return res;
}
