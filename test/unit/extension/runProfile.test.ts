// The child-process contract of profiling, against small stand-in CLIs written per test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileInChildProcess, ProfileProcessError } from '../../../src/extension/data/runProfile';
import { sampleProfile } from './fixtures/profile';

const dir = mkdtempSync(join(tmpdir(), 'mlloop-fakecli-'));
function fakeCli(name: string, body: string): string {
  const file = join(dir, `${name}.js`);
  writeFileSync(file, body);
  return file;
}
const run = (cliPath: string, extra: Partial<Parameters<typeof profileInChildProcess>[0]> = {}) =>
  profileInChildProcess({ cliPath, nodePath: process.execPath, projectDir: dir, timeoutMs: 10_000, ...extra });

test('passes `profile DIR --json` and returns the parsed profile', async () => {
  const cli = fakeCli(
    'ok',
    `const [cmd, d, flag] = process.argv.slice(2);
     if (cmd !== 'profile' || d !== ${JSON.stringify(dir)} || flag !== '--json') { console.error('bad args ' + process.argv.slice(2)); process.exit(2); }
     process.stdout.write(JSON.stringify(${JSON.stringify(sampleProfile())}));`,
  );
  const profile = await run(cli);
  assert.deepEqual(profile, sampleProfile());
});

test('a failing CLI rejects with its stderr message, without stack lines', async () => {
  const cli = fakeCli(
    'fail',
    `console.error('mlloop.json:3:12: error: data file data/x.csv does not exist\\n    at foo (x.js:1:1)'); process.exit(1);`,
  );
  await assert.rejects(run(cli), (e: unknown) => {
    assert.ok(e instanceof ProfileProcessError);
    assert.equal(e.exitCode, 1);
    assert.equal(e.message, 'Profiling failed: mlloop.json:3:12: error: data file data/x.csv does not exist');
    return true;
  });
});

test('output that is not JSON, or JSON that is not a profile, is refused', async () => {
  await assert.rejects(run(fakeCli('text', `console.log('rows: 6')`)), /not JSON/);
  await assert.rejects(run(fakeCli('json', `console.log('{"rows": 6}')`)), /not a data profile/);
});

test('a hung profiler is stopped at the timeout, and an abort kills it', async () => {
  const hang = fakeCli('hang', `setInterval(() => {}, 1000);`);
  await assert.rejects(run(hang, { timeoutMs: 300 }), /took longer than 0.3 s/);
  const abort = new AbortController();
  const pending = run(hang, { signal: abort.signal });
  setTimeout(() => abort.abort(), 100);
  await assert.rejects(pending, /cancelled/);
});
