// A training job's evaluation: the metrics of every split are those of the exported model in ONNX
// Runtime (the model as deployed), computed once per split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executeTrainJob } from '../../../src/core/train/job';
import { splitMetrics } from '../../../src/core/train/metrics';
import { OnnxPredictor } from '../../../src/core/onnx/onnxPredictor';
import { mixedClassification, mixedRegression } from './fixtures';

for (const [task, dataset] of [
  ['classification', mixedClassification(400)],
  ['regression', mixedRegression(400)],
] as const) {
  test(`${task}: the job's metrics are the exported model's in ONNX Runtime, on train, dev and test`, async () => {
    const r = await executeTrainJob(
      { data: { dataset }, model: 'gbdt', params: { iterations: 20, maxLeaves: 7, minSamplesLeaf: 5 }, seed: 0 },
      { runId: 'run-1', mlloopVersion: '0.0.0' },
    );
    const onnx = await OnnxPredictor.load(r.onnx, dataset.schema);
    const classes = dataset.schema.classes?.length ?? 0;
    for (const split of ['train', 'dev', 'test'] as const) {
      const rows = dataset[split];
      const expected = splitMetrics(task, rows.y, await onnx.predict(rows.features), classes);
      assert.deepEqual(r.metrics[split], expected, split);
    }
    await onnx.release();
    // The dev predictions made for the metrics feed the monitoring reference.
    assert.ok(r.reference?.predictions, 'reference built from the dev predictions');
  });
}
