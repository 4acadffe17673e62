import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../../../src/core/onnx/builder';
import { Preprocessor, UNKNOWN_CATEGORY } from '../../../src/core/train/preprocess';
import type { FeatureSchema, RawFeatures } from '../../../src/core/data/types';

const schema: FeatureSchema = {
  task: 'classification',
  target: 'y',
  numeric: ['a', 'b', 'c'],
  categorical: ['color', 'size'],
  classes: ['n', 'y'],
};

// a: 1,2,3,4 (mean 2.5, pop. std sqrt(1.25)); b: 10, NaN, 20, 30 (mean 20); c: constant 7.
const train: RawFeatures = {
  n: 4,
  numeric: new Float32Array([1, 10, 7, 2, NaN, 7, 3, 20, 7, 4, 30, 7]),
  categories: ['red', 'S', 'blue', 'M', 'red', '', 'green', 'M'],
};
const unseen: RawFeatures = {
  n: 3,
  numeric: new Float32Array([NaN, NaN, 7, 5, 15, NaN, 2.5, 20, 8]),
  categories: ['purple', 'M', '', 'XL', 'blue', 'S'],
};

async function runDense(pre: Preprocessor, raw: RawFeatures, F: number, K: number): Promise<Float32Array> {
  const b = new OnnxGraphBuilder();
  const dense = pre.appendOnnx(b);
  b.addNode('Identity', [dense], ['dense']);
  b.addOutput('dense', 'float', ['N', pre.outputDim]);
  const session = await ort.InferenceSession.create(b.build());
  const feeds: Record<string, ort.Tensor> = { features: new ort.Tensor('float32', raw.numeric, [raw.n, F]) };
  if (K > 0) feeds.categories = new ort.Tensor('string', raw.categories, [raw.n, K]);
  const out = await session.run(feeds);
  return out.dense.data as Float32Array;
}

test('fit learns imputation, missing flags, one-hot vocabularies with an unknown bucket, from train only', () => {
  const pre = Preprocessor.fit(schema, train, { standardize: false, impute: true });
  assert.deepEqual(pre.outputNames, [
    'a',
    'b',
    'c',
    'b__missing',
    'color=blue',
    'color=green',
    'color=red',
    `color=${UNKNOWN_CATEGORY}`,
    'size=',
    'size=M',
    'size=S',
    `size=${UNKNOWN_CATEGORY}`,
  ]);
  const X = pre.transform(unseen);
  // row 0: a missing → mean 2.5; b missing → 20 and flag; purple unknown; size M.
  assert.deepEqual(Array.from(X.slice(0, 12)), [2.5, 20, 7, 1, 0, 0, 0, 1, 0, 1, 0, 0]);
  // row 1: c missing but c had no missing value in train: imputed, no flag column; '' color is unknown (not in train); XL unknown.
  assert.deepEqual(Array.from(X.slice(12, 24)), [5, 15, 7, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.deepEqual(Array.from(X.slice(24, 36)), [2.5, 20, 8, 0, 1, 0, 0, 0, 0, 0, 1, 0]);
});

test('standardization uses the train mean and population std; constant columns are only centred', () => {
  const pre = Preprocessor.fit(schema, train, { standardize: true, impute: true });
  const X = pre.transform(train);
  const sd = Math.sqrt(1.25);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(X[i * pre.outputDim] - (i + 1 - 2.5) / sd) < 1e-6);
  // b: train values 10, (20 imputed), 20, 30 → std over observed values sqrt(200/3)
  assert.ok(Math.abs(X[1] - (10 - 20) / Math.sqrt(200 / 3)) < 1e-6);
  assert.equal(X[pre.outputDim + 1], 0, 'imputed value standardizes to 0');
  assert.equal(X[2], 0, 'constant column');
});

test('without imputation NaN passes through and no flag columns are added', () => {
  const pre = Preprocessor.fit(
    { ...schema, categorical: [] },
    { ...train, categories: [] },
    { standardize: false, impute: false },
  );
  assert.deepEqual(pre.outputNames, ['a', 'b', 'c']);
  const X = pre.transform({ ...unseen, categories: [] });
  assert.ok(Number.isNaN(X[0]) && Number.isNaN(X[1]) && X[2] === 7);
});

for (const opts of [
  { standardize: true, impute: true },
  { standardize: false, impute: true },
  { standardize: true, impute: false },
  { standardize: false, impute: false },
]) {
  test(`ONNX preprocessing equals transform() exactly (${JSON.stringify(opts)})`, async () => {
    const pre = Preprocessor.fit(schema, train, opts);
    for (const raw of [train, unseen]) {
      const js = pre.transform(raw);
      const onnx = await runDense(pre, raw, 3, 2);
      assert.equal(onnx.length, js.length);
      for (let i = 0; i < js.length; i++) {
        if (Number.isNaN(js[i])) assert.ok(Number.isNaN(onnx[i]), `index ${i}`);
        else assert.equal(onnx[i], js[i], `index ${i}`);
      }
    }
  });
}

test('numeric-only and categorical-only schemas export a working graph', async () => {
  const numOnly = Preprocessor.fit(
    { ...schema, categorical: [] },
    { ...train, categories: [] },
    { standardize: true, impute: true },
  );
  assert.deepEqual(
    Array.from(await runDense(numOnly, { ...unseen, categories: [] }, 3, 0)),
    Array.from(numOnly.transform({ ...unseen, categories: [] })),
  );
  const catSchema = { ...schema, numeric: [] };
  const catTrain = { ...train, numeric: new Float32Array(0) };
  const catOnly = Preprocessor.fit(catSchema, catTrain, { standardize: true, impute: true });
  const raw = { ...unseen, numeric: new Float32Array(0) };
  assert.deepEqual(Array.from(await runDense(catOnly, raw, 0, 2)), Array.from(catOnly.transform(raw)));
});

test('transformForReading hands back the input itself when nothing is transformed, else transform()', () => {
  const numeric: FeatureSchema = { ...schema, categorical: [] };
  const raw = { ...unseen, categories: [] };
  const plain = Preprocessor.fit(numeric, { ...train, categories: [] }, { standardize: false, impute: false });
  const view = plain.transformForReading(raw);
  assert.equal(view.buffer, raw.numeric.buffer, 'no copy');
  assert.deepEqual(Array.from(view), Array.from(plain.transform(raw)));
  for (const [s, opts] of [
    [numeric, { standardize: true, impute: false }],
    [numeric, { standardize: false, impute: true }],
    [schema, { standardize: false, impute: false }],
  ] as const) {
    const pre = Preprocessor.fit(s, s === schema ? train : { ...train, categories: [] }, opts);
    const input = s === schema ? unseen : raw;
    const dense = pre.transformForReading(input);
    assert.notEqual(dense.buffer, input.numeric.buffer);
    assert.deepEqual(Array.from(dense), Array.from(pre.transform(input)));
  }
});
