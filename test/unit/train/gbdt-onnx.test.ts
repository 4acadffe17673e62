// Parity of the exported gbdt model with the trainer's own predictions, in onnxruntime-node, and
// validity under onnx.checker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openSession } from '../../../src/core/onnx/session';
import { trainGbdt } from '../../../src/core/train/gbdt/index';
import type { TrainedModel } from '../../../src/core/train/types';
import type { FeatureSchema, RawFeatures, Rows } from '../../../src/core/data/types';
import { mulberry32 } from '../../../src/core/data/prng';
import { generatedClassification } from './gbdt-fixtures';
import { readClassificationCsv, rows as makeRows } from './fixtures';
import { IRIS_CSV, DIGITS_CSV } from '../../datasets';

const META = { runId: 'run-1', dataVersion: 'data-1', mlloopVersion: '0.1.0' };

async function runOnnx(bytes: Uint8Array, schema: FeatureSchema, f: RawFeatures): Promise<Record<string, ort.Tensor>> {
  const session = await openSession(bytes);
  const feeds: Record<string, ort.Tensor> = {
    features: new ort.Tensor('float32', f.numeric, [f.n, schema.numeric.length]),
  };
  if (schema.categorical.length > 0)
    feeds.categories = new ort.Tensor('string', f.categories, [f.n, schema.categorical.length]);
  return session.run(feeds);
}

/** Asserts ORT equals predict() on rows: probabilities within 1e-5 and identical labels, or regression values within 1e-5 relative. */
async function assertParity(m: TrainedModel, splits: Rows[]): Promise<Uint8Array> {
  const bytes = m.toOnnx(META);
  for (const rows of splits) {
    const js = m.predict(rows.features);
    const out = await runOnnx(bytes, m.schema, rows.features);
    const n = rows.features.n;
    if (m.schema.task === 'classification') {
      const probs = out.probabilities.data as Float32Array;
      let maxDiff = 0;
      for (let i = 0; i < probs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(probs[i] - js.probabilities![i]));
      assert.ok(maxDiff <= 1e-5, `max |Δprob| ${maxDiff}`);
      const labels = out.label.data as string[];
      for (let i = 0; i < n; i++) assert.equal(labels[i], m.schema.classes![js.classIndex![i]], `row ${i}`);
    } else {
      const values = out.prediction.data as Float32Array;
      assert.equal(values.length, n);
      for (let i = 0; i < n; i++)
        assert.ok(
          Math.abs(values[i] - js.values![i]) <= 1e-5 * Math.max(1, Math.abs(js.values![i])),
          `row ${i}: ${values[i]} vs ${js.values![i]}`,
        );
    }
  }
  return bytes;
}

/** Generated rows with NaNs and a categorical column (with missing values) that matters for the target. */
function mixed(n: number, seed: number, task: 'classification' | 'regression'): Rows {
  const { X, y } = generatedClassification(n, 5, seed, 0.15);
  const rand = mulberry32(seed + 100);
  const colours = ['red', 'green', 'blue', ''];
  const categories: string[] = [];
  const target = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = colours[Math.floor(rand() * colours.length)];
    categories.push(c);
    const shift = c === 'red' ? 1 : c === '' ? -1 : 0;
    target[i] =
      task === 'classification'
        ? c === 'red'
          ? 1 - y[i]
          : y[i]
        : 3 * y[i] + shift + (Number.isNaN(X[i * 5]) ? 2 : X[i * 5]);
  }
  return makeRows(X, target, categories);
}

const mixedSchema = (task: 'classification' | 'regression'): FeatureSchema => ({
  task,
  target: 'y',
  numeric: ['a', 'b', 'c', 'd', 'e'],
  categorical: ['colour'],
  classes: task === 'classification' ? ['no', 'yes'] : undefined,
});

test('binary classification with NaNs and a categorical column: ORT equals predict() (probabilities ≤ 1e-5, same labels)', async () => {
  const train = mixed(3000, 1, 'classification');
  const dev = mixed(800, 2, 'classification');
  // Unseen category values and all-NaN rows at predict time.
  const odd = makeRows([NaN, NaN, NaN, NaN, NaN, 0, 0, 0, 0, 0], [0, 1], ['purple', '']);
  const m = trainGbdt({
    schema: mixedSchema('classification'),
    train,
    dev,
    params: { iterations: 40 },
    seed: 1,
  }) as TrainedModel;
  await assertParity(m, [train, dev, odd]);
});

test('regression with NaNs and a categorical column: ORT equals predict()', async () => {
  const train = mixed(3000, 3, 'regression');
  const dev = mixed(800, 4, 'regression');
  const m = trainGbdt({
    schema: mixedSchema('regression'),
    train,
    dev,
    params: { iterations: 60, maxLeaves: 15 },
    seed: 1,
  }) as TrainedModel;
  await assertParity(m, [train, dev]);
});

test('multi-class on digits and iris: ORT equals predict() on train and dev', async () => {
  for (const [path, iterations] of [
    [DIGITS_CSV, 20],
    [IRIS_CSV, 50],
  ] as const) {
    const { schema, train, dev } = readClassificationCsv(path);
    const m = trainGbdt({ schema, train, dev, params: { iterations }, seed: 1 }) as TrainedModel;
    await assertParity(m, [train, dev]);
  }
});

test('a model of single-leaf trees (nothing to split) exports and runs', async () => {
  const train = makeRows([1, 1, 1, 1, 1, 1], [0, 1, 0, 1, 1, 1]);
  const m = trainGbdt({
    schema: { task: 'classification', target: 'y', numeric: ['x'], categorical: [], classes: ['a', 'b'] },
    train,
    dev: makeRows([], []),
    params: { iterations: 3 },
    seed: 1,
  }) as TrainedModel;
  await assertParity(m, [train]);
  const p = m.predict(train.features).probabilities!;
  assert.ok(Math.abs(p[1] - 4 / 6) < 1e-6, `${p[1]}`);
});

test('onnx.checker accepts exported gbdt models (classification and regression)', (t) => {
  const python = '/usr/bin/python3';
  try {
    execFileSync(python, ['-c', 'import onnx'], { stdio: 'ignore' });
  } catch {
    t.skip('Debian python3-onnx is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'gbdt-onnx-'));
  const files: string[] = [];
  for (const task of ['classification', 'regression'] as const) {
    const m = trainGbdt({
      schema: mixedSchema(task),
      train: mixed(500, 5, task),
      dev: makeRows([], []),
      params: { iterations: 5 },
      seed: 1,
    }) as TrainedModel;
    const file = join(dir, `${task}.onnx`);
    writeFileSync(file, m.toOnnx(META));
    files.push(file);
  }
  const { schema, train } = readClassificationCsv(IRIS_CSV);
  const iris = join(dir, 'iris.onnx');
  writeFileSync(
    iris,
    (trainGbdt({ schema, train, dev: makeRows([], []), params: { iterations: 5 }, seed: 1 }) as TrainedModel).toOnnx(
      META,
    ),
  );
  files.push(iris);
  const out = execFileSync(
    python,
    [
      '-c',
      'import onnx, sys\nfor f in sys.argv[1:]: onnx.checker.check_model(onnx.load(f), full_check=True)\nprint("ok")',
      ...files,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(out.trim(), 'ok');
});
