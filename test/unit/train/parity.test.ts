// ONNX parity (onnxruntime-node's outputs on the exported model equal predict()), validity
// (onnx.checker accepts it) and byte-determinism, for every registered model kind on every split of
// hand-made datasets covering binary/multiclass/regression, categorical features and missing values.
// (Sample projects under examples/ are covered by parity-examples.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSession } from '../../../src/core/onnx/session';
import type { BuiltinModel } from '../../../src/core/spec/types';
import type { SplitDataset } from '../../../src/core/data/types';
import { TRAINERS } from '../../../src/core/train/registry';
import type { TrainedModel } from '../../../src/core/train/types';
import { mixedClassification, mixedRegression, readClassificationCsv, separable } from './fixtures';
import { assertOnnxParity, checkOnnxValidity, FAST_PARAMS } from './parity-helpers';
import { IRIS_CSV, DIGITS_CSV } from '../../datasets';

const DATASETS: Record<string, () => SplitDataset> = {
  iris: () => readClassificationCsv(IRIS_CSV),
  digits: () => readClassificationCsv(DIGITS_CSV),
  binary: () => separable(400, 6),
  'mixed-classification': () => mixedClassification(),
  'mixed-regression': () => mixedRegression(),
};
const REGRESSION_ONLY: BuiltinModel[] = ['linear'];
const CLASSIFICATION_ONLY: BuiltinModel[] = ['logistic'];
/** Models that take images (their parity is pinned by cnn.test.ts). */
const IMAGE_ONLY: BuiltinModel[] = ['cnn'];

const META = { runId: '20260101-000000-000-abcdef', dataVersion: 'v1', mlloopVersion: '0.0.0-test' };
const exported: { name: string; bytes: Uint8Array }[] = [];

for (const [dsName, make] of Object.entries(DATASETS)) {
  const dataset = make();
  for (const [model, trainer] of Object.entries(TRAINERS) as [BuiltinModel, (typeof TRAINERS)[BuiltinModel]][]) {
    const task = dataset.schema.task;
    if (IMAGE_ONLY.includes(model)) continue;
    if (
      (task === 'classification' && REGRESSION_ONLY.includes(model)) ||
      (task === 'regression' && CLASSIFICATION_ONLY.includes(model))
    )
      continue;
    test(`${model} on ${dsName}: ONNX parity on train/dev/test, deterministic bytes`, async () => {
      const ctx = {
        schema: dataset.schema,
        train: dataset.train,
        dev: dataset.dev,
        params: FAST_PARAMS[model],
        seed: 7,
      };
      const trained: TrainedModel = await trainer(ctx);
      const bytes = trained.toOnnx(META);
      exported.push({ name: `${model}-${dsName}`, bytes });
      const session = await openSession(bytes);
      for (const split of ['train', 'dev', 'test'] as const) await assertOnnxParity(session, trained, dataset, split);
      const again: TrainedModel = await trainer({ ...ctx });
      assert.ok(
        Buffer.from(again.toOnnx(META)).equals(Buffer.from(bytes)),
        'same data, params and seed give the same model bytes',
      );
    });
  }
}

test('onnx.checker accepts every exported model', (t) => {
  const res = checkOnnxValidity(exported);
  if (res === 'no-onnx') return t.skip('/usr/bin/python3 has no onnx module (install python3-onnx)');
  assert.ok(exported.length >= 8, `${exported.length} models`);
});
