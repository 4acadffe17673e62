// `ml-loop diagnose`: a real run of the iris sample (trained in the worker, exported to ONNX), then
// diagnosed through the CLI table with --json and as text, and through the bundled CLI in a child
// process as the extension runs it.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/main';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';
import type { ClassificationMetrics } from '../../../src/core/train/metrics';
import { diagnoseInChildProcess } from '../../../src/extension/diagnose/diagnoseProcess';
import { CancelledError } from '../../../src/core/runtime/cancel';

const cliPath = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

const dir = mkdtempSync(join(tmpdir(), 'mlloop-diagnose-cli-'));
let runId = '';
let recorded: { train: ClassificationMetrics; dev: ClassificationMetrics; test: ClassificationMetrics };

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

before(async () => {
  cpSync(join(__dirname, '..', '..', '..', 'examples', 'iris'), dir, { recursive: true, filter: (src) => !src.includes('.mlloop') });
  rmSync(join(dir, '.mlloop', 'runs'), { recursive: true, force: true });
  const o = await trainExperiment({ projectDir: dir, experimentName: 'logistic' });
  assert.equal(o.status, 'completed', o.error?.message);
  runId = o.runId;
  recorded = o.metrics as typeof recorded;
});

test('--json prints the verdict as structured data, from the ONNX model, agreeing with run.json', async () => {
  const r = await cli(['diagnose', '--run', runId.slice(0, 22), '--json']);
  assert.equal(r.code, 0, r.err);
  const d = JSON.parse(r.out);
  assert.equal(d.runId, runId);
  const v = d.verdict;
  for (const k of ['avoidableBias', 'variance', 'mismatch', 'dominant', 'recommendations']) assert.ok(k in v, k);
  assert.ok(['bias', 'variance', 'mismatch', 'none'].includes(v.dominant));
  assert.ok(Array.isArray(v.recommendations) && v.recommendations.length > 0);
  // ONNX predictions give the same errors as the trainer's predictions recorded in run.json.
  const baseline = 0.03;
  assert.ok(Math.abs(v.avoidableBias - Math.max(0, 1 - recorded.train.accuracy - baseline)) < 1e-9);
  // The dev and test errors carry their intervals (the split sizes are known).
  assert.equal(v.devInterval.n, d.splits.dev.n);
  assert.ok(v.devInterval.low <= v.devError && v.devError <= v.devInterval.high);
  assert.ok(Math.abs(v.variance - (recorded.train.accuracy - recorded.dev.accuracy)) < 1e-9);
  assert.ok(Math.abs(v.mismatch - (recorded.dev.accuracy - recorded.test.accuracy)) < 1e-9);
  assert.equal(d.splits.dev.perClass.length, 3);
  assert.equal(d.splits.dev.confusion.flat().reduce((a: number, b: number) => a + b, 0), d.splits.dev.n);
  assert.equal(d.splits.dev.roc.length, 3, 'one-vs-rest ROC per class');
  assert.equal(d.importance.features.length, 4);
  assert.equal(d.learningCurve, null, 'not computed unless asked');
});

test('text output, "latest", and errors: unknown run, missing --run', async () => {
  const r = await cli(['diagnose', '.', '--run', 'latest:logistic']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`Run ${runId}`));
  assert.match(r.out, /What to try next:\n {2}1\. /);
  assert.match(r.out, /Most important features on dev/);
  const missing = await cli(['diagnose', '--run', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /No run "nope"/);
  const usage = await cli(['diagnose']);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /Missing --run/);
});

test("the extension's child process: diagnosis parsed and validated; learning-curve progress streamed; cancel kills it", { skip: !existsSync(cliPath) && 'dist/cli.js is not built' }, async () => {
  const base = { cliPath, nodePath: process.execPath, projectDir: dir, runId };
  const d = await diagnoseInChildProcess(base);
  assert.equal(d.runId, runId);
  assert.equal(d.verdict.metric, 'accuracy');
  const progress: string[] = [];
  const withCurve = await diagnoseInChildProcess({ ...base, learningCurve: true, onProgress: (done, total) => progress.push(`${done}/${total}`) });
  assert.deepEqual(progress, ['1/10', '2/10', '3/10', '4/10', '5/10', '6/10', '7/10', '8/10', '9/10', '10/10']);
  assert.equal(withCurve.learningCurve?.points.length, 10);
  assert.ok(withCurve.verdict.learningCurveReading, 'the verdict reads the curve');
  const abort = new AbortController();
  const cancelled = diagnoseInChildProcess({ ...base, validationParam: 'l2', signal: abort.signal, onProgress: () => abort.abort() });
  await assert.rejects(cancelled, CancelledError);
  await assert.rejects(diagnoseInChildProcess({ ...base, runId: 'missing-run' }), /No run "missing-run"/);
});
