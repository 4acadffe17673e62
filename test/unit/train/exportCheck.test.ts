// The export check (src/core/train/exportCheck.ts): which rows it reads, and the line between ONNX
// Runtime's float32 rounding (accepted) and a prediction that is not the model's (rejected).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkExportedModel,
  checkedRows,
  EXPORT_CHECK_TOLERANCE,
  type CheckedSplit,
} from '../../../src/core/train/exportCheck';
import { getTrainer } from '../../../src/core/train/registry';
import { TrainingError } from '../../../src/core/train/types';
import type { SplitDataset } from '../../../src/core/data/types';
import { mixedClassification, mixedRegression } from './fixtures';

test('checkedRows: every row of a small split; evenly spaced rows of a large one, from the first to near the last', () => {
  assert.deepEqual([...checkedRows(5, 10)], [0, 1, 2, 3, 4]);
  assert.deepEqual([...checkedRows(0, 10)], []);
  const rows = checkedRows(600_000, 1000);
  assert.equal(rows.length, 1000);
  assert.equal(rows[0], 0);
  assert.equal(rows[999], 599_400);
  for (let k = 1; k < rows.length; k++) assert.equal(rows[k] - rows[k - 1], 600);
});

/** A small GBDT (numeric and categorical columns, missing values) and its in-process predictions. */
async function trained(dataset: SplitDataset) {
  const model = await getTrainer('gbdt')({
    schema: dataset.schema,
    train: dataset.train,
    dev: dataset.dev,
    params: { iterations: 10, maxLeaves: 7, minSamplesLeaf: 5 },
    seed: 0,
  });
  const onnx = model.toOnnx({ runId: 'r', dataVersion: 'v', mlloopVersion: '0' });
  const splits = (['train', 'dev', 'test'] as const).map((name): CheckedSplit => ({
    name,
    rows: dataset[name],
    prediction: model.predict(dataset[name].features),
  }));
  return { onnx, splits };
}

test('classification: the export agrees within the tolerance; a probability off by more fails with the split, row and class', async () => {
  const dataset = mixedClassification(400);
  const { onnx, splits } = await trained(dataset);
  const rows = splits.reduce((s, x) => s + x.rows.features.n, 0);
  assert.equal(await checkExportedModel(onnx, dataset.schema, splits), rows);
  const dev = splits[1].prediction.probabilities!;
  // Row 3 of dev, class "low" (index 1): within the tolerance, then beyond it.
  dev[3 * 3 + 1] += EXPORT_CHECK_TOLERANCE / 2;
  await checkExportedModel(onnx, dataset.schema, splits);
  dev[3 * 3 + 1] += EXPORT_CHECK_TOLERANCE;
  await assert.rejects(checkExportedModel(onnx, dataset.schema, splits), (e: unknown) => {
    assert.ok(e instanceof TrainingError);
    assert.match(
      e.message,
      /on dev row 3: the probability of "low" is [\d.e-]+ in ONNX Runtime, [\d.e-]+ in the trainer/,
    );
    return true;
  });
});

test('classification: a different class with the same probabilities fails (the label is checked, not only the probabilities)', async () => {
  const dataset = mixedClassification(400);
  const { onnx, splits } = await trained(dataset);
  const test0 = splits[2].prediction;
  const p = test0.probabilities!.subarray(0, 3);
  const top = test0.classIndex![0];
  // Not a tie: the top class leads the others by more than twice the tolerance.
  assert.ok(p.every((v, c) => c === top || p[top] - v > 2 * EXPORT_CHECK_TOLERANCE));
  test0.classIndex![0] = (top + 1) % 3;
  await assert.rejects(
    checkExportedModel(onnx, dataset.schema, splits),
    /on test row 0: ONNX Runtime predicts "\w+", the trainer "\w+"/,
  );
});

test('regression: values within the tolerance (relative to max(1, |value|)) agree; beyond it the run fails', async () => {
  const dataset = mixedRegression(400);
  const { onnx, splits } = await trained(dataset);
  const values = splits[0].prediction.values!;
  const last = values.length - 1;
  const scale = Math.max(1, Math.abs(values[last]));
  values[last] += (EXPORT_CHECK_TOLERANCE / 2) * scale;
  await checkExportedModel(onnx, dataset.schema, splits);
  values[last] += 2 * EXPORT_CHECK_TOLERANCE * scale;
  await assert.rejects(
    checkExportedModel(onnx, dataset.schema, splits),
    new RegExp(`on train row ${last}: ONNX Runtime predicts`),
  );
});

test('only the sampled rows are read: a difference between two checked rows goes unseen, one on a checked row does not', async () => {
  const dataset = mixedRegression(400);
  const { onnx, splits } = await trained(dataset);
  const values = splits[0].prediction.values!;
  const picked = checkedRows(values.length, 10);
  assert.equal(picked[1] - picked[0] > 1, true);
  values[picked[0] + 1] += 10;
  await checkExportedModel(onnx, dataset.schema, splits, 10);
  values[picked[1]] += 10;
  await assert.rejects(checkExportedModel(onnx, dataset.schema, splits, 10), new RegExp(`train row ${picked[1]}:`));
});
