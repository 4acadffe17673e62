import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainLinear, LinearCore } from '../../../src/core/train/linear';
import { choleskySolve } from '../../../src/core/train/optim/cholesky';
import { TrainingError, type TrainContext } from '../../../src/core/train/types';
import type { FeatureSchema, Rows } from '../../../src/core/data/types';

function rows(numeric: number[], F: number, y: number[]): Rows {
  const n = y.length;
  return {
    features: { n, numeric: new Float32Array(numeric), categories: [] },
    y: Float64Array.from(y),
    ids: y.map((_, i) => String(i)),
    rowIndex: Uint32Array.from(y.keys()),
  };
}
const schema2: FeatureSchema = { task: 'regression', target: 'y', numeric: ['x1', 'x2'], categorical: [] };

test('with l2 = 0, ridge recovers an exact linear relation (y = 3·x1 − 2·x2 + 5)', () => {
  const X: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 20; i++) {
    const x1 = i * 0.5;
    const x2 = (i * 7) % 5;
    X.push(x1, x2);
    y.push(3 * x1 - 2 * x2 + 5);
  }
  const ctx: TrainContext = { schema: schema2, train: rows(X, 2, y), dev: rows([], 2, []), params: { l2: 0 }, seed: 1 };
  const m = trainLinear(ctx);
  const p = m.predict({ n: 2, numeric: new Float32Array([10, 1, -4, 3]), categories: [] }).values!;
  assert.ok(Math.abs(p[0] - 33) < 1e-3 && Math.abs(p[1] - -13) < 1e-3, `${p}`);
});

test('ridge weights equal the closed form (XcᵀXc + λI)⁻¹Xcᵀyc on standardized features', () => {
  // One feature: the closed form is w = Σ xc·yc / (Σ xc² + λ) on standardized x.
  const xs = [1, 2, 4, 7, 11];
  const ys = [2, 3, 3, 8, 10];
  const lambda = 2.5;
  const m = trainLinear({
    schema: { ...schema2, numeric: ['x'] },
    train: rows(xs, 1, ys),
    dev: rows([], 1, []),
    params: { l2: lambda },
    seed: 0,
  });
  const mx = xs.reduce((a, b) => a + b) / 5;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mx) ** 2, 0) / 5);
  const z = xs.map((x) => (x - mx) / sd);
  const my = ys.reduce((a, b) => a + b) / 5;
  const w = z.reduce((a, zi, i) => a + zi * (ys[i] - my), 0) / (z.reduce((a, zi) => a + zi * zi, 0) + lambda);
  const pred = m.predict({ n: 1, numeric: new Float32Array([5]), categories: [] }).values![0];
  assert.ok(Math.abs(pred - (my + (w * (5 - mx)) / sd)) < 1e-4, `${pred}`);
});

test('cholesky solves a known 3×3 system', () => {
  const A = Float64Array.from([4, 12, -16, 12, 37, -43, -16, -43, 98]);
  const x = choleskySolve(A, Float64Array.from([1, 2, 3]), 3);
  // A·x should give back b.
  for (let i = 0; i < 3; i++) {
    const bi = A[i * 3] * x[0] + A[i * 3 + 1] * x[1] + A[i * 3 + 2] * x[2];
    assert.ok(Math.abs(bi - [1, 2, 3][i]) < 1e-9);
  }
});

test('negative l2 and a classification task are rejected naming the parameter', () => {
  const base: TrainContext = {
    schema: schema2,
    train: rows([1, 2, 3, 4], 2, [1, 2]),
    dev: rows([], 2, []),
    params: { l2: -1 },
    seed: 0,
  };
  assert.throws(
    () => trainLinear(base),
    (e) => e instanceof TrainingError && e.param === 'l2',
  );
  assert.throws(
    () => trainLinear({ ...base, params: {}, schema: { ...schema2, task: 'classification', classes: ['a', 'b'] } }),
    (e) => e instanceof TrainingError && e.param === 'model',
  );
});

test('LinearCore predicts w·x + b', () => {
  const core = new LinearCore(new Float32Array([1, -1]), 0.5);
  assert.deepEqual(Array.from(core.predictDense(new Float32Array([2, 1, 0, 3]), 2).values!), [1.5, -2.5]);
});
