// The options every ML Loop session is opened with (src/core/onnx/session.ts): a tree ensemble then
// sums its trees in one pass in tree order, so its scores are the in-process predictor's bit for bit
// (with an intra-op thread per core, ONNX Runtime sums two halves of the trees apart once a batch has
// more than 50 rows, and the last bits differ).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../../../src/core/onnx/builder';
import { openSession, sessionOptions } from '../../../src/core/onnx/session';
import type { FeatureSchema } from '../../../src/core/data/types';
import { randomForest } from '../train/gbdt-fixtures';

test('sessionOptions: one intra-op and one inter-op thread unless told otherwise', () => {
  assert.deepEqual(sessionOptions(), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  assert.equal(sessionOptions({ intraOpNumThreads: 3 }).intraOpNumThreads, 3);
});

test('a GBDT regression of 120 trees on 3,000 rows in a session from openSession gives the in-process scores bit for bit', async () => {
  const d = 6;
  const n = 3000;
  const { core, X } = randomForest(120, d, 1, n, 5);
  const schema: FeatureSchema = {
    task: 'regression',
    target: 'y',
    numeric: Array.from({ length: d }, (_, j) => `x${j}`),
    categorical: [],
  };
  const b = new OnnxGraphBuilder('t');
  b.addInput('features', 'float', ['N', d]);
  core.appendOnnx(b, 'features', schema);
  const session = await openSession(b.build());
  try {
    const out = await session.run({ features: new ort.Tensor('float32', X, [n, d]) });
    const got = out.prediction.data as Float32Array;
    const want = core.scoresReference(X, n);
    assert.equal(got.length, n);
    for (let i = 0; i < n; i++) assert.ok(Object.is(got[i], want[i]), `row ${i}: ${got[i]} vs ${want[i]}`);
  } finally {
    await session.release();
  }
});
