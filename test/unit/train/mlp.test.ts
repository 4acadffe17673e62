// The mlp trainer on small hand-checkable problems, determinism, early stopping, cancellation,
// bad parameters, divergence, agreement of the kernel variants, and ONNX parity of the shapes the
// registry-wide parity suite does not build (tanh, two hidden layers, dropout, sgd).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import type { FeatureSchema, Rows, SplitDataset } from '../../../src/core/data/types';
import { KERNEL_KINDS } from '../../../src/core/train/kernels/gemm';
import { MlpNetwork } from '../../../src/core/train/kernels/network';
import { trainMlp, trainMlpWith } from '../../../src/core/train/mlp';
import { TrainingError, type ProgressEvent, type TrainContext, type TrainedModel } from '../../../src/core/train/types';
import { CancelledError } from '../../../src/core/runtime/cancel';
import { prng, readClassificationCsv, rows } from './fixtures';
import { assertOnnxParity } from './parity-helpers';
import { IRIS_CSV } from '../../datasets';

const IRIS = IRIS_CSV;
const META = { runId: 'r', dataVersion: 'v', mlloopVersion: '0' };

function ctxOf(
  ds: { schema: FeatureSchema; train: Rows; dev: Rows },
  params: Record<string, unknown>,
  extra: Partial<TrainContext> = {},
): TrainContext {
  return { schema: ds.schema, train: ds.train, dev: ds.dev, params, seed: 0, ...extra };
}

function accuracy(model: TrainedModel, r: Rows): number {
  const idx = model.predict(r.features).classIndex!;
  let hits = 0;
  for (let i = 0; i < r.y.length; i++) if (idx[i] === r.y[i]) hits++;
  return hits / r.y.length;
}

function rmse(model: TrainedModel, r: Rows): number {
  const v = model.predict(r.features).values!;
  let s = 0;
  for (let i = 0; i < r.y.length; i++) s += (v[i] - r.y[i]) ** 2;
  return Math.sqrt(s / r.y.length);
}

const xorSchema: FeatureSchema = {
  task: 'classification',
  target: 'y',
  numeric: ['a', 'b'],
  categorical: [],
  classes: ['0', '1'],
};
const xorRows = rows([0, 0, 0, 1, 1, 0, 1, 1], [0, 1, 1, 0]);

/** Noisy 1-D regression y = sin(3x) + noise: small enough to overfit. */
function noisyRegression(n: number, seed: number): { schema: FeatureSchema; train: Rows; dev: Rows } {
  const r = prng(seed);
  const make = (count: number) => {
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < count; i++) {
      const v = r() * 2 - 1;
      x.push(v);
      y.push(Math.sin(3 * v) + (r() - 0.5) * 0.8);
    }
    return rows(x, y);
  };
  return {
    schema: { task: 'regression', target: 'y', numeric: ['x'], categorical: [] },
    train: make(n),
    dev: make(200),
  };
}

test('learns XOR exactly (a problem no linear model solves)', () => {
  const model = trainMlp(
    ctxOf(
      { schema: xorSchema, train: xorRows, dev: xorRows },
      { hidden: [8], activation: 'tanh', learningRate: 0.05, batchSize: 4, epochs: 500, l2: 0, earlyStopping: false },
    ),
  ) as TrainedModel;
  const p = model.predict(xorRows.features);
  assert.deepEqual(Array.from(p.classIndex!), [0, 1, 1, 0]);
  for (let i = 0; i < 4; i++)
    assert.ok(
      p.probabilities![i * 2 + xorRows.y[i]] > 0.9,
      `row ${i}: p(true class) = ${p.probabilities![i * 2 + xorRows.y[i]]}`,
    );
});

test('converges on iris: train loss falls and dev accuracy ≥ 0.93, reported every epoch', () => {
  const iris = readClassificationCsv(IRIS);
  const events: ProgressEvent[] = [];
  const model = trainMlp(
    ctxOf(
      iris,
      { hidden: [16], learningRate: 0.01, batchSize: 16, epochs: 150, earlyStopping: false },
      { onProgress: (e) => events.push(e) },
    ),
  ) as TrainedModel;
  assert.ok(accuracy(model, iris.dev) >= 0.93, `dev accuracy ${accuracy(model, iris.dev)}`);
  assert.ok(accuracy(model, iris.test) >= 0.9, `test accuracy ${accuracy(model, iris.test)}`);
  const first = events[0];
  const last = events[events.length - 1];
  assert.equal(first.step, 1);
  assert.equal(last.step, 150);
  assert.equal(last.metricName, 'accuracy');
  assert.ok(last.trainLoss! < first.trainLoss! / 3, `train loss ${first.trainLoss} → ${last.trainLoss}`);
  assert.equal(last.devMetric, accuracy(model, iris.dev));
});

test('regression fits a smooth curve in the target units (target scaling folded into the model)', () => {
  const r = prng(3);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 400; i++) {
    const a = r() * 4 - 2;
    const b = r() * 4 - 2;
    x.push(a, b);
    y.push(1000 + 300 * Math.sin(a) + 200 * b * b);
  }
  const all = rows(x, y);
  const ds = {
    schema: { task: 'regression', target: 'y', numeric: ['a', 'b'], categorical: [] } as FeatureSchema,
    train: all,
    dev: all,
  };
  const model = trainMlp(
    ctxOf(ds, { hidden: [32], learningRate: 0.01, batchSize: 32, epochs: 200, earlyStopping: false }),
  ) as TrainedModel;
  let sd = 0;
  const mean = y.reduce((s, v) => s + v, 0) / y.length;
  for (const v of y) sd += (v - mean) ** 2;
  sd = Math.sqrt(sd / y.length);
  assert.ok(rmse(model, all) < 0.1 * sd, `rmse ${rmse(model, all)} vs target sd ${sd}`);
});

test('deterministic: same data, params and seed give identical model bytes; another seed does not', () => {
  const iris = readClassificationCsv(IRIS);
  const params = { hidden: [8, 6], learningRate: 0.01, batchSize: 20, epochs: 10, dropout: 0.2, earlyStopping: 3 };
  const a = (trainMlp(ctxOf(iris, params)) as TrainedModel).toOnnx(META);
  const b = (trainMlp(ctxOf(iris, params)) as TrainedModel).toOnnx(META);
  const c = (trainMlp(ctxOf(iris, { ...params, seed: 1 })) as TrainedModel).toOnnx(META);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('early stopping stops after `patience` epochs without improvement and restores the best weights', () => {
  const ds = noisyRegression(24, 11);
  const patience = 5;
  const params = { hidden: [64, 64], learningRate: 0.01, batchSize: 8, l2: 0 };
  let last = 0;
  const stopped = trainMlp(
    ctxOf(ds, { ...params, epochs: 400, earlyStopping: patience }, { onProgress: (e) => (last = e.step) }),
  ) as TrainedModel;
  assert.ok(last > patience && last < 400, `stopped at epoch ${last}`);
  // Training is deterministic and the dev pass draws no random numbers, so the model after e
  // epochs without early stopping is exactly the early-stopped run's state at epoch e.
  const devRmse: number[] = [];
  const byEpoch: TrainedModel[] = [];
  for (let e = 1; e <= last; e++) {
    byEpoch[e] = trainMlp(ctxOf(ds, { ...params, epochs: e, earlyStopping: false })) as TrainedModel;
    devRmse[e] = rmse(byEpoch[e], ds.dev);
  }
  let best = 1;
  for (let e = 2; e <= last; e++) if (devRmse[e] < devRmse[best]) best = e;
  assert.equal(last, best + patience, `best dev rmse at epoch ${best}`);
  assert.ok(devRmse[last] > devRmse[best]);
  assert.deepEqual(
    stopped.toOnnx(META),
    byEpoch[best].toOnnx(META),
    'the returned model is the best epoch, byte for byte',
  );
});

test('early stopping off trains every epoch; without a dev split it cannot stop early', () => {
  const ds = noisyRegression(24, 11);
  let steps = 0;
  trainMlp(ctxOf(ds, { hidden: [16], epochs: 30, earlyStopping: false }, { onProgress: (e) => (steps = e.step) }));
  assert.equal(steps, 30);
  trainMlp(
    ctxOf(
      { ...ds, dev: rows([], []) },
      { hidden: [16], epochs: 30, earlyStopping: 2 },
      { onProgress: (e) => (steps = e.step) },
    ),
  );
  assert.equal(steps, 30);
});

test('cancellation: stops within the epoch it is asked in, and within a second on a long epoch', () => {
  const iris = readClassificationCsv(IRIS);
  let cancelled = false;
  let steps = 0;
  assert.throws(
    () =>
      trainMlp(
        ctxOf(
          iris,
          { hidden: [8], epochs: 1000, batchSize: 10 },
          { isCancelled: () => cancelled, onProgress: (e) => ((steps = e.step), (cancelled = true)) },
        ),
      ),
    CancelledError,
  );
  assert.equal(steps, 1, 'no epoch reported after the cancel');

  // One epoch over 200,000 rows takes seconds on the js-naive kernel: the cancel still lands fast.
  const r = prng(5);
  const n = 200_000;
  const x = new Float32Array(n * 8).map(() => r());
  const big = {
    schema: {
      task: 'regression',
      target: 'y',
      numeric: Array.from({ length: 8 }, (_, j) => `x${j}`),
      categorical: [],
    } as FeatureSchema,
    train: rows(
      x,
      new Float64Array(n).map(() => r()),
    ),
    dev: rows([], []),
  };
  const start = Date.now();
  let cancelAt = 0;
  assert.throws(
    () =>
      trainMlpWith(
        ctxOf(
          big,
          { hidden: [64], epochs: 5, batchSize: 100 },
          {
            isCancelled: () =>
              cancelAt === 0 && Date.now() - start > 300 ? ((cancelAt = Date.now()), true) : cancelAt > 0,
          },
        ),
        { kernel: 'js-naive' },
      ),
    CancelledError,
  );
  assert.ok(cancelAt > 0, 'cancel was asked during training');
  assert.ok(Date.now() - cancelAt < 1000, `stopped ${Date.now() - cancelAt} ms after the cancel`);
});

test('bad parameters are a TrainingError naming the parameter', () => {
  const iris = readClassificationCsv(IRIS);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ hidden: [0] }, 'hidden'],
    [{ hidden: [16, -2] }, 'hidden'],
    [{ hidden: 'big' }, 'hidden'],
    [{ learningRate: -0.1 }, 'learningRate'],
    [{ learningRate: 0 }, 'learningRate'],
    [{ batchSize: 0 }, 'batchSize'],
    [{ batchSize: 2.5 }, 'batchSize'],
    [{ dropout: 1 }, 'dropout'],
    [{ dropout: -0.1 }, 'dropout'],
    [{ epochs: 0 }, 'epochs'],
    [{ l2: -1 }, 'l2'],
    [{ activation: 'sigmoid' }, 'activation'],
    [{ optimizer: 'rmsprop' }, 'optimizer'],
    [{ momentum: 1 }, 'momentum'],
    [{ earlyStopping: -3 }, 'earlyStopping'],
  ];
  for (const [params, param] of cases) {
    assert.throws(
      () => trainMlp(ctxOf(iris, { epochs: 1, ...params })),
      (e: unknown) => e instanceof TrainingError && e.param === param && e.message.includes(param),
      `${JSON.stringify(params)} should name ${param}`,
    );
  }
});

test('an empty train split, or rows that do not fit the 4 GiB the kernels address, are a TrainingError', () => {
  const iris = readClassificationCsv(IRIS);
  assert.throws(
    () => trainMlp(ctxOf({ ...iris, train: rows([], []) }, {})),
    (e: unknown) => e instanceof TrainingError && e.param === 'train',
  );
  assert.throws(
    () =>
      new MlpNetwork({
        sizes: [1000, 4, 2],
        activation: 'relu',
        maxRows: 200,
        dropout: 0,
        kernel: 'wasm-simd',
        dataRows: 1_100_000,
      }),
    (e: unknown) => e instanceof TrainingError && /4 GiB/.test(e.message),
  );
});

test('divergence is a TrainingError naming the epoch', () => {
  const ds = noisyRegression(200, 2);
  assert.throws(
    () =>
      trainMlp(
        ctxOf(ds, {
          hidden: [32],
          optimizer: 'sgd',
          learningRate: 50,
          momentum: 0.9,
          batchSize: 10,
          epochs: 100,
          earlyStopping: false,
        }),
      ),
    (e: unknown) =>
      e instanceof TrainingError &&
      typeof e.step === 'number' &&
      e.step >= 1 &&
      e.message.includes(`epoch ${e.step}`) &&
      /NaN|Infinity/.test(e.message),
  );
});

test('every kernel variant trains the same model (within float tolerance)', () => {
  const iris = readClassificationCsv(IRIS);
  const params = { hidden: [10, 7], learningRate: 0.01, batchSize: 16, epochs: 5, earlyStopping: false };
  const probs = KERNEL_KINDS.map(
    (kernel) => trainMlpWith(ctxOf(iris, params), { kernel }).predict(iris.test.features).probabilities!,
  );
  for (let v = 1; v < probs.length; v++) {
    let max = 0;
    for (let i = 0; i < probs[0].length; i++) max = Math.max(max, Math.abs(probs[v][i] - probs[0][i]));
    assert.ok(max < 1e-4, `${KERNEL_KINDS[v]} vs ${KERNEL_KINDS[0]}: max |Δprob| ${max}`);
  }
});

test('ONNX parity for tanh, two hidden layers, dropout and sgd (classification and regression)', async () => {
  const iris = readClassificationCsv(IRIS);
  const reg = noisyRegression(150, 4);
  const cases: Array<[SplitDataset, Record<string, unknown>]> = [
    [iris, { hidden: [12, 5], activation: 'tanh', dropout: 0.1, epochs: 20, batchSize: 16, learningRate: 0.01 }],
    [iris, { hidden: [9], optimizer: 'sgd', learningRate: 0.05, epochs: 20, batchSize: 16 }],
    [
      { ...reg, test: reg.dev, version: { fileHash: '', splitHash: '', id: 'reg' } },
      { hidden: [13, 3], activation: 'tanh', epochs: 20, batchSize: 16 },
    ],
  ];
  for (const [ds, params] of cases) {
    const model = trainMlp(ctxOf(ds, { earlyStopping: false, ...params })) as TrainedModel;
    const session = await ort.InferenceSession.create(model.toOnnx(META));
    for (const split of ['train', 'dev', 'test'] as const) await assertOnnxParity(session, model, ds, split);
  }
});
