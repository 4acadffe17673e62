import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { readMetadata } from '../../../src/core/onnx/builder';
import {
  booleanParam,
  choiceParam,
  makeTrainedModel,
  numberParam,
  ProgressGate,
  type ModelCore,
} from '../../../src/core/train/pipeline';
import { appendClassifierOutputsFromProbabilities, appendRegressionOutput } from '../../../src/core/train/outputs';
import { argmaxRows } from '../../../src/core/onnx/argmax';
import { Preprocessor } from '../../../src/core/train/preprocess';
import { TrainingError, type ProgressEvent } from '../../../src/core/train/types';
import { CancelledError } from '../../../src/core/runtime/cancel';
import type { FeatureSchema } from '../../../src/core/data/types';

test('ProgressGate forwards the first and last steps and at most one event per interval; it throws once cancelled', () => {
  const seen: ProgressEvent[] = [];
  let cancelled = false;
  const gate = new ProgressGate({ onProgress: (e) => seen.push(e), isCancelled: () => cancelled }, 1000);
  for (let step = 1; step <= 10000; step++) gate.report({ step, totalSteps: 10000 });
  assert.deepEqual(
    seen.map((e) => e.step),
    [1, 10000],
  );
  cancelled = true;
  assert.throws(() => gate.report({ step: 1 }), CancelledError);
  assert.throws(() => gate.checkCancelled(), CancelledError);
});

test('a throwing progress listener does not stop training', () => {
  const gate = new ProgressGate({
    onProgress: () => {
      throw new Error('listener');
    },
  });
  assert.doesNotThrow(() => gate.report({ step: 1 }));
});

test('parameter readers name the offending parameter', () => {
  const isParam = (p: string) => (e: unknown) =>
    e instanceof TrainingError && e.param === p && e.message.includes(`"${p}"`);
  assert.equal(numberParam({ lr: 0.5 }, 'lr', 1, { above: 0 }), 0.5);
  assert.equal(numberParam({}, 'lr', 1, { above: 0 }), 1);
  assert.throws(() => numberParam({ lr: -0.1 }, 'lr', 1, { above: 0 }), isParam('lr'));
  assert.throws(() => numberParam({ lr: 0 }, 'lr', 1, { above: 0 }), isParam('lr'));
  assert.throws(() => numberParam({ n: 2.5 }, 'n', 1, { integer: true }), isParam('n'));
  assert.throws(() => numberParam({ n: 'x' }, 'n', 1), isParam('n'));
  assert.throws(() => numberParam({ n: 300 }, 'n', 1, { max: 255 }), isParam('n'));
  assert.equal(booleanParam({}, 'b', true), true);
  assert.throws(() => booleanParam({ b: 1 }, 'b', true), isParam('b'));
  assert.equal(choiceParam({ act: 'tanh' }, 'act', 'relu', ['relu', 'tanh']), 'tanh');
  assert.throws(() => choiceParam({ act: 'gelu' }, 'act', 'relu', ['relu', 'tanh']), isParam('act'));
});

test('argmaxRows picks the first maximum, like ONNX ArgMax', () => {
  assert.deepEqual(Array.from(argmaxRows(Float32Array.from([0.2, 0.4, 0.4, 0.5, 0.5, 0]), 2, 3)), [1, 0]);
});

// A model core that passes the dense row through: probabilities = the row itself (3 one-hot columns).
const passThrough: ModelCore = {
  predictDense: (X, n) => ({ probabilities: X, classIndex: argmaxRows(X, n, 3) }),
  appendOnnx: (b, dense, schema) => appendClassifierOutputsFromProbabilities(b, dense, schema.classes!),
};

test('makeTrainedModel: predict and the ONNX model both start from raw features, and the model carries its metadata', async () => {
  const schema: FeatureSchema = {
    task: 'classification',
    target: 'kind',
    numeric: [],
    categorical: ['animal'],
    classes: ['bird', 'cat', 'dog'],
  };
  const pre = Preprocessor.fit(
    schema,
    { n: 2, numeric: new Float32Array(0), categories: ['cat', 'dog'] },
    { standardize: false, impute: true },
  );
  // The dense columns (animal=cat, animal=dog, animal=<unknown>) are read as the probabilities of bird, cat, dog.
  const m = makeTrainedModel('logistic', schema, pre, passThrough);
  const raw = { n: 3, numeric: new Float32Array(0), categories: ['dog', 'cat', 'fish'] };
  const js = m.predict(raw);
  assert.deepEqual(Array.from(js.classIndex!), [1, 0, 2]);
  const bytes = m.toOnnx({ runId: 'r1', dataVersion: 'dv', mlloopVersion: '9.9.9' });
  assert.deepEqual(readMetadata(bytes), {
    task: 'classification',
    model: 'logistic',
    target: 'kind',
    features: '[]',
    categories: '["animal"]',
    classes: '["bird","cat","dog"]',
    run_id: 'r1',
    data_version: 'dv',
    mlloop_version: '9.9.9',
  });
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({
    features: new ort.Tensor('float32', new Float32Array(0), [3, 0]),
    categories: new ort.Tensor('string', raw.categories, [3, 1]),
  });
  assert.deepEqual(out.label.data, ['cat', 'bird', 'dog']);
  assert.deepEqual(Array.from(out.probabilities.data as Float32Array), Array.from(js.probabilities!));
});

test('regression output is reshaped to [N]', async () => {
  const schema: FeatureSchema = { task: 'regression', target: 'y', numeric: ['x'], categorical: [] };
  const pre = Preprocessor.fit(
    schema,
    { n: 2, numeric: Float32Array.from([1, 3]), categories: [] },
    { standardize: false, impute: true },
  );
  const core: ModelCore = {
    predictDense: (X) => ({ values: X }),
    appendOnnx: (b, dense) => appendRegressionOutput(b, dense),
  };
  const s = await ort.InferenceSession.create(
    makeTrainedModel('linear', schema, pre, core).toOnnx({ runId: '', dataVersion: '', mlloopVersion: '' }),
  );
  const out = await s.run({ features: new ort.Tensor('float32', Float32Array.from([5, NaN]), [2, 1]) });
  assert.deepEqual(out.prediction.dims, [2]);
  assert.deepEqual(Array.from(out.prediction.data as Float32Array), [5, 2]);
});
