// Learning and validation curves retrained in the training worker: nested stratified subsets, the
// cache in the run folder, cancellation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeValidationCurve,
  DEFAULT_FRACTIONS,
  LARGE_FRACTIONS,
  LARGE_TRAIN_ROWS,
  learningCurveFractions,
  learningCurveKey,
  learningCurveOfRun,
  sweepValues,
} from '../../../src/core/diagnose/learningCurve';
import { readCachedLearningCurve } from '../../../src/core/diagnose/learningCurveCache';
import { stratifiedOrder } from '../../../src/core/diagnose/retrain';
import { CancelledError } from '../../../src/core/runtime/cancel';
import { readClassificationCsv } from '../train/fixtures';
import { IRIS_CSV } from '../../datasets';

const iris = readClassificationCsv(IRIS_CSV);
const spec = { model: 'logistic' as const, params: { l2: 0.001, maxIter: 100, tol: 1e-6 }, seed: 0 };

test('stratified order: every prefix holds the classes in proportion, and prefixes are nested', () => {
  const y = Float64Array.from({ length: 300 }, (_, i) => (i < 200 ? 0 : 1));
  const order = stratifiedOrder(y, true, 4);
  assert.equal(new Set(order).size, 300);
  for (const size of [30, 60, 150]) {
    const ones = Array.from(order.subarray(0, size)).filter((i) => y[i] === 1).length;
    assert.ok(Math.abs(ones - size / 3) <= 1, `${ones} of ${size}`);
  }
  assert.deepEqual(stratifiedOrder(y, true, 4), order, 'same seed, same order');
  assert.notDeepEqual(stratifiedOrder(y, true, 5), order);
});

test('learning curve: one training per fraction on growing subsets, cached in the run folder', async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'mlloop-lc-'));
  const fractions = [0.2, 0.6, 1];
  const seen: number[] = [];
  const curve = await learningCurveOfRun(runDir, iris, spec, 'accuracy', {
    fractions,
    onPoint: (done) => seen.push(done),
  });
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(
    curve.points.map((p) => p.trainSize),
    fractions.map((f) => Math.round(f * iris.train.features.n)),
  );
  for (const p of curve.points) assert.ok(p.trainError >= 0 && p.devError >= 0 && p.devError < 0.5, JSON.stringify(p));
  // The cache answers the same key without training (onPoint is never called), and only that key.
  const again = await learningCurveOfRun(runDir, iris, spec, 'accuracy', {
    fractions,
    onPoint: () => assert.fail('retrained'),
  });
  assert.deepEqual(again, curve);
  assert.equal(
    readCachedLearningCurve(runDir, learningCurveKey(iris, { ...spec, params: { ...spec.params, l2: 1 } }, fractions)),
    undefined,
  );
});

test('validation curve: a sweep of l2 around its value, worse on train as l2 grows', async () => {
  assert.deepEqual(sweepValues('l2', 0.001), [0.00001, 0.0001, 0.001, 0.01, 0.1]);
  assert.deepEqual(sweepValues('hidden', [64]), [[16], [32], [64], [128], [256]]);
  assert.deepEqual(sweepValues('dense', [128]), [[32], [64], [128], [256], [512]]);
  assert.deepEqual(sweepValues('channels', [16, 32]), [
    [4, 8],
    [8, 16],
    [16, 32],
    [32, 64],
    [64, 128],
  ]);
  const v = await computeValidationCurve(iris, spec, 'accuracy', 'l2', [1e-4, 100]);
  assert.equal(v.points.length, 2);
  assert.ok(v.points[1].trainError > v.points[0].trainError, JSON.stringify(v.points));
});

test('cancelling stops the curve with CancelledError', async () => {
  const abort = new AbortController();
  const runDir = mkdtempSync(join(tmpdir(), 'mlloop-lc-'));
  const pending = learningCurveOfRun(runDir, iris, spec, 'accuracy', {
    signal: abort.signal,
    onPoint: () => abort.abort(),
  });
  await assert.rejects(pending, CancelledError);
  assert.equal(readCachedLearningCurve(runDir), undefined, 'a cancelled curve is not cached');
});

test('a learning curve has 10 points, 5 (20 % … 100 %) when the training split is above 100,000 rows', () => {
  const withTrainRows = (n: number) => ({ ...iris, train: { ...iris.train, features: { ...iris.train.features, n } } });
  assert.deepEqual(learningCurveFractions(iris), DEFAULT_FRACTIONS);
  assert.deepEqual(learningCurveFractions(withTrainRows(LARGE_TRAIN_ROWS)), DEFAULT_FRACTIONS);
  assert.deepEqual(learningCurveFractions(withTrainRows(LARGE_TRAIN_ROWS + 1)), [0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(LARGE_FRACTIONS.length, 5);
});
