// OnnxPredictor: the class of a row from a builtin model's probabilities (its `label` is ArgMax of
// them, so the label strings are not fetched), from the `label` output for any other model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxGraphBuilder } from '../../../src/core/onnx/builder';
import { OnnxPredictor } from '../../../src/core/onnx/onnxPredictor';
import type { FeatureSchema } from '../../../src/core/data/types';

const CLASSES = ['a', 'b', 'c'];
const schema: FeatureSchema = {
  task: 'classification',
  target: 'y',
  numeric: ['p0', 'p1', 'p2'],
  categorical: [],
  classes: CLASSES,
};

/** probabilities = the features; label = the class of each row's *smallest* value (unlike ArgMax). */
function model(kind: string): Uint8Array {
  const b = new OnnxGraphBuilder('t');
  b.addInput('features', 'float', ['N', 3]);
  b.addNode('Identity', ['features'], ['probabilities']);
  b.addOutput('probabilities', 'float', ['N', 3]);
  const [index] = b.addNode('ArgMin', ['features'], 1, { axis: 1, keepdims: 0 });
  b.addNode(
    'LabelEncoder',
    [index],
    ['label'],
    { keys_int64s: [0, 1, 2], values_strings: CLASSES, default_string: '' },
    'ai.onnx.ml',
  );
  b.addOutput('label', 'string', ['N']);
  return b.build({ model: kind, task: 'classification' });
}

// Rows past one batch (65,536), so the batches' offsets are exercised too.
const n = 70_000;
const numeric = new Float32Array(n * 3);
for (let i = 0; i < n; i++) {
  numeric[i * 3 + (i % 3)] = 0.6;
  numeric[i * 3 + ((i + 1) % 3)] = 0.3;
  numeric[i * 3 + ((i + 2) % 3)] = 0.1;
}
const features = { n, numeric, categories: [] };

test('a builtin model: the class is the first maximum of the probabilities', async () => {
  const p = await OnnxPredictor.load(model('gbdt'), schema);
  assert.equal(p.labelIsArgmax, true);
  const out = await p.predict(features);
  await p.release();
  assert.deepEqual(out.probabilities, numeric);
  for (let i = 0; i < n; i++) assert.equal(out.classIndex![i], i % 3, `row ${i}`);
});

test('another model (a script’s): the class is read from its label output', async () => {
  const p = await OnnxPredictor.load(model('script'), schema);
  assert.equal(p.labelIsArgmax, false);
  const out = await p.predict(features);
  await p.release();
  for (let i = 0; i < n; i++) assert.equal(out.classIndex![i], (i + 2) % 3, `row ${i}`);
});
