// A training job's evaluation: every split is predicted in-process (GBDT's dev rows by the fit itself), and the exported ONNX model must
// answer the same in ONNX Runtime on a sample of each split's rows (exportCheck.ts), so the metrics are
// those of the model the server loads, and a run whose export disagrees with its model fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executeTrainJob } from '../../../src/core/train/job';
import { splitMetrics } from '../../../src/core/train/metrics';
import { OnnxPredictor } from '../../../src/core/onnx/onnxPredictor';
import { GbdtCore } from '../../../src/core/train/gbdt/model';
import { TrainingError } from '../../../src/core/train/types';
import type { Prediction } from '../../../src/core/data/types';
import { mixedClassification, mixedRegression } from './fixtures';

const GBDT = { iterations: 20, maxLeaves: 7, minSamplesLeaf: 5 };

for (const [task, dataset] of [
  ['classification', mixedClassification(400)],
  ['regression', mixedRegression(400)],
] as const) {
  test(`${task}: the job's metrics are those of the exported model in ONNX Runtime, on train, dev and test`, async (t) => {
    const predicted = t.mock.method(GbdtCore.prototype, 'predictDense');
    const r = await executeTrainJob(
      { data: { dataset }, model: 'gbdt', params: GBDT, seed: 0 },
      { runId: 'run-1', mlloopVersion: '0.0.0' },
    );
    // Train and test are predicted; dev's predictions came out of the fit (TrainedModel.fitted).
    assert.deepEqual(
      predicted.mock.calls.map((c) => c.arguments[1]),
      [dataset.train.features.n, dataset.test.features.n],
    );
    const onnx = await OnnxPredictor.load(r.onnx, dataset.schema);
    const classes = dataset.schema.classes?.length ?? 0;
    for (const split of ['train', 'dev', 'test'] as const) {
      const rows = dataset[split];
      const expected = splitMetrics(task, rows.y, await onnx.predict(rows.features), classes);
      const got = r.metrics[split] as Record<string, number>;
      assert.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort(), split);
      // In-process and ONNX Runtime probabilities agree within float32 rounding (the parity tests).
      for (const [k, v] of Object.entries(expected as Record<string, number>))
        assert.ok(Math.abs(got[k] - v) <= 1e-6 * Math.max(1, Math.abs(v)), `${split} ${k}: ${got[k]} vs ${v}`);
      if (task === 'classification') assert.equal(got.accuracy, (expected as Record<string, number>).accuracy);
    }
    await onnx.release();
    // The dev predictions made for the metrics feed the monitoring reference.
    assert.ok(r.reference?.predictions, 'reference built from the dev predictions');
  });

  test(`${task}: a run whose export does not answer as its model fails, naming the split, the row and the output`, async (t) => {
    // The trainer's own predictions drift from its export's (the ONNX graph is left as it is): what
    // a broken export looks like from the job's side.
    const predictDense = GbdtCore.prototype.predictDense;
    t.mock.method(GbdtCore.prototype, 'predictDense', function (this: GbdtCore, X: Float32Array, n: number) {
      const p: Prediction = predictDense.call(this, X, n);
      if (p.values) p.values[n - 1] += 0.5;
      if (p.probabilities) {
        const C = p.probabilities.length / n;
        p.probabilities[(n - 1) * C] = 1 - p.probabilities[(n - 1) * C];
      }
      return p;
    });
    await assert.rejects(
      executeTrainJob(
        { data: { dataset }, model: 'gbdt', params: GBDT, seed: 0 },
        { runId: 'run-1', mlloopVersion: '0.0.0' },
      ),
      (e: unknown) => {
        assert.ok(e instanceof TrainingError, String(e));
        const last = dataset.train.features.n - 1;
        assert.match(
          e.message,
          new RegExp(`exported ONNX model does not answer as the trained model on train row ${last}`),
        );
        assert.match(e.message, task === 'regression' ? /ONNX Runtime predicts/ : /the probability of "high"/);
        return true;
      },
    );
  });
}
