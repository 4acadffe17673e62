// The extension's one runner of CLI calls (profile, diagnose, drift, retrain): JSON result, accepted non-zero codes, errors
// from stderr, progress lines, shape validation and cancellation (a real child process each time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliProcessError, CliTimeoutError, runCliJson } from '../../../src/extension/cliProcess';
import { CancelledError } from '../../../src/core/runtime/cancel';

const dir = mkdtempSync(join(tmpdir(), 'mlloop-clijson-'));
const cli = join(dir, 'cli.js');
writeFileSync(
  cli,
  `const [cmd, arg] = process.argv.slice(2);
if (cmd === 'ok') { console.error('step one'); console.error('step two'); console.log(JSON.stringify({ value: Number(arg) })); }
else if (cmd === 'drift') { console.log(JSON.stringify({ value: 3 })); process.exit(3); }
else if (cmd === 'fail') { console.error('step reading'); console.error('ml-loop fail: no logged requests in /x'); process.exit(1); }
else if (cmd === 'usage') { console.error('ml-loop usage: no deployment "d": /p does not exist\\n\\nml-loop drift [--deployment NAME]\\n  --psi X    PSI threshold'); process.exit(2); }
else if (cmd === 'crash') { console.error('ml-loop crash: Error: disk full\\n    at f (x.js:1:1)\\n    at g (x.js:2:2)'); process.exit(1); }
else if (cmd === 'text') { console.log('not json'); }
else if (cmd === 'slow') { setTimeout(() => console.log('{}'), 60000); }`,
);
const isValue = (v: unknown): v is { value: number } => typeof (v as { value?: unknown })?.value === 'number';
const base = { cliPath: cli, nodePath: process.execPath, cwd: dir, isResult: isValue };

test('parses the JSON printed, forwards stderr lines, accepts listed exit codes', async () => {
  const lines: string[] = [];
  assert.deepEqual(await runCliJson({ ...base, args: ['ok', '7'], onLine: (l) => lines.push(l) }), { value: 7 });
  assert.deepEqual(lines, ['step one', 'step two']);
  assert.deepEqual(await runCliJson({ ...base, args: ['drift'], okCodes: [3] }), { value: 3 });
  await assert.rejects(runCliJson({ ...base, args: ['drift'] }), /exited with code 3/);
});

test('a failure rejects with the command\'s message (progress lines left out); non-JSON and wrong shapes are errors', async () => {
  await assert.rejects(runCliJson({ ...base, args: ['fail'] }), (e: Error) => e.message === 'no logged requests in /x');
  await assert.rejects(runCliJson({ ...base, args: ['text'] }), /not JSON: not json/);
  // A usage error reaches the user as its one-line reason, never the usage text; a crash without its stack.
  await assert.rejects(runCliJson({ ...base, args: ['usage'] }), (e: Error) => e.message === 'no deployment "d": /p does not exist');
  await assert.rejects(runCliJson({ ...base, args: ['crash'] }), (e: Error) => e.message === 'Error: disk full');
  await assert.rejects(runCliJson({ ...base, args: ['ok', 'x'] }), /unexpected shape/);
});

test('a failure carries the exit code; the wrong JSON is named when the caller says what a result is', async () => {
  await assert.rejects(runCliJson({ ...base, args: ['fail'] }), (e: unknown) => e instanceof CliProcessError && e.exitCode === 1 && /step reading/.test(e.stderr));
  await assert.rejects(runCliJson({ ...base, args: ['ok', 'x'], resultName: 'a value' }), /printed JSON that is not a value/);
});

test('a timeout kills the process and rejects with CliTimeoutError', async () => {
  await assert.rejects(runCliJson({ ...base, args: ['slow'], timeoutMs: 200 }), (e: unknown) => e instanceof CliTimeoutError && /took longer than 0.2 s/.test(e.message));
});

test('an abort kills the process and rejects as cancelled', async () => {
  const abort = new AbortController();
  const p = runCliJson({ ...base, args: ['slow'], signal: abort.signal });
  setTimeout(() => abort.abort(), 100);
  await assert.rejects(p, CancelledError);
});
