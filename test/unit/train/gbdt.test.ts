import { test } from 'node:test';
import { availableParallelism } from 'node:os';
import assert from 'node:assert/strict';
import { BinKernel, BinMapper, radixSortFloat32, SortKernel } from '../../../src/core/train/gbdt/binning';
import { TreeGrower } from '../../../src/core/train/gbdt/grower';
import {
  accumulateHistogram,
  ENTRY,
  BoostingWorkspace,
  HIST_CHUNK,
  histKernelModule,
  SPARSE_LEAF,
} from '../../../src/core/train/gbdt/workspace';
import { trainGbdt } from '../../../src/core/train/gbdt/index';
import {
  binaryLogLoss,
  binaryRangeGradients,
  kernelExp,
  softmaxLoss,
  softmaxLossOf,
  softmaxRangeGradients,
} from '../../../src/core/train/gbdt/losses';
import { addLeafValues, partitionRows } from '../../../src/core/train/gbdt/partition';
import { decodeModel } from '../../../src/core/onnx/builder';
import { TrainingError, type ProgressEvent, type TrainContext, type TrainedModel } from '../../../src/core/train/types';
import { CancelledError } from '../../../src/core/runtime/cancel';
import type { FeatureSchema } from '../../../src/core/data/types';
import { mulberry32 } from '../../../src/core/data/prng';
import { generatedClassification } from './gbdt-fixtures';
import { readClassificationCsv, rows as makeRows } from './fixtures';
import { IRIS_CSV } from '../../datasets';
import { HELPER_JOB } from '../../../src/core/train/kernels/helperThread';
import { strayWakeups } from './stray-wakeups';

const emptyRows = () => makeRows([], []);

const META = { runId: 'r', dataVersion: 'v', mlloopVersion: '0' };
const regression = (numeric: string[]): FeatureSchema => ({
  task: 'regression',
  target: 'y',
  numeric,
  categorical: [],
});
const binary = (numeric: string[]): FeatureSchema => ({
  task: 'classification',
  target: 'y',
  numeric,
  categorical: [],
  classes: ['0', '1'],
});

function train(model: Partial<TrainContext> & Pick<TrainContext, 'schema' | 'train'>): TrainedModel {
  return trainGbdt({ dev: emptyRows(), params: {}, seed: 7, ...model }) as TrainedModel;
}

/** Number of trees in the exported TreeEnsemble. */
function treeCount(m: TrainedModel): number {
  const node = decodeModel(m.toOnnx(META)).graph!.node!.find((n) => n.opType === 'TreeEnsembleRegressor')!;
  const ids = node.attribute!.find((a) => a.name === 'nodes_treeids')!.ints!.map(Number);
  return new Set(ids).size;
}

test('bin thresholds are ascending float32 values, at most maxBins bins, NaN in the missing bin', () => {
  const rand = mulberry32(3);
  const n = 5000;
  const X = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    X[i * 2] = i % 7 === 0 ? NaN : rand() * 100;
    X[i * 2 + 1] = i % 4; // four distinct values: one bin each
  }
  const mapper = BinMapper.fit(X, n, 2, 32, 1);
  assert.equal(mapper.nBins[0], 32);
  assert.equal(mapper.nBins[1], 4);
  for (const t of mapper.thresholds) {
    for (let j = 0; j < t.length; j++) {
      assert.equal(Math.fround(t[j]), t[j]);
      if (j > 0) assert.ok(t[j] > t[j - 1]);
    }
  }
  const bins = mapper.transform(X, n);
  const counts = new Array(33).fill(0);
  for (let i = 0; i < n; i++) {
    const b = bins[i];
    counts[b]++;
    if (Number.isNaN(X[i * 2])) assert.equal(b, 32);
    else {
      // bin b is the first with x <= threshold (b < 31), or the last bin.
      if (b < 31) assert.ok(X[i * 2] <= mapper.thresholds[0][b]);
      if (b > 0) assert.ok(X[i * 2] > mapper.thresholds[0][b - 1]);
    }
    assert.equal(bins[n + i], i % 4);
  }
  // Quantile bins hold roughly equal counts (n·6/7 non-missing rows over 32 bins).
  const expected = (n * 6) / 7 / 32;
  for (let b = 0; b < 32; b++) assert.ok(Math.abs(counts[b] - expected) < expected * 0.5, `bin ${b}: ${counts[b]}`);
});

test('binning with 255 bins gives every value the first bin whose threshold it does not exceed (thresholds themselves, their neighbours, NaN)', () => {
  const rand = mulberry32(11);
  const n = 20_000;
  const X = new Float32Array(n);
  for (let i = 0; i < n; i++) X[i] = i % 13 === 0 ? NaN : Math.fround((rand() - 0.5) * 1000);
  const mapper = BinMapper.fit(X, n, 1, 255, 2);
  const t = mapper.thresholds[0];
  assert.equal(t.length, 254);
  // The values probed: the data, every threshold and the float32 values either side of it.
  const probe: number[] = Array.from(X);
  const f32 = new Float32Array(1);
  const i32 = new Int32Array(f32.buffer);
  for (const v of t) {
    for (const step of [-1, 0, 1]) {
      f32[0] = v;
      i32[0] += v >= 0 ? step : -step;
      probe.push(f32[0]);
    }
  }
  probe.push(-1e30, 1e30);
  const bins = mapper.transform(Float32Array.from(probe), probe.length);
  probe.forEach((v, i) => {
    let expected = t.findIndex((threshold) => v <= threshold);
    if (expected < 0) expected = t.length;
    if (Number.isNaN(v)) expected = mapper.nBins[0];
    assert.equal(bins[i], expected, `value ${v}`);
  });
});

test('every leaf value is −G/(H+l2)·learningRate of the rows it holds (histogram sums and subtraction are exact)', () => {
  const n = 3000;
  const d = 4;
  const rand = mulberry32(11);
  const X = new Float32Array(n * d);
  for (let i = 0; i < X.length; i++) X[i] = i % 13 === 0 ? NaN : rand();
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    g[i] = Math.sin(7 * (X[i * d] || 0)) + (X[i * d + 1] > 0.5 ? 1 : -1) + rand() * 0.1;
    h[i] = 0.5 + rand();
  }
  const mapper = BinMapper.fit(X, n, d, 64, 1);
  const opts = { maxLeaves: 15, maxDepth: Infinity, minSamplesLeaf: 10, l2: 0.7, learningRate: 0.3 };
  const grower = new TreeGrower(mapper.transform(X, n), n, mapper, opts);
  const tree = grower.grow(grower.setGradients(g, h));
  const leafCount = tree.feature.filter((f) => f < 0).length;
  assert.equal(leafCount, 15);
  // Recover each row's leaf value from the grower, group rows by it, and recompute the sums.
  const scores = grower.scores;
  grower.addToScores(tree, 0);
  const groups = new Map<number, { g: number; h: number; count: number }>();
  for (let i = 0; i < n; i++) {
    const s = groups.get(scores[i]) ?? { g: 0, h: 0, count: 0 };
    s.g += g[i];
    s.h += h[i];
    s.count++;
    groups.set(scores[i], s);
  }
  assert.equal(groups.size, 15);
  for (const [value, s] of groups) {
    assert.ok(s.count >= 10);
    assert.ok(
      Math.abs(value - Math.fround((-s.g / (s.h + 0.7)) * 0.3)) < 1e-6,
      `${value} vs ${(-s.g / (s.h + 0.7)) * 0.3}`,
    );
  }
});

test('a single split fits a step function exactly: threshold between the two sides, leaf values are the side means', () => {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < 100; i++) {
    xs.push(i / 100);
    ys.push(i < 30 ? 1 : 5);
  }
  const m = train({
    schema: regression(['x']),
    train: makeRows(xs, ys),
    params: { iterations: 1, maxLeaves: 2, learningRate: 1, minSamplesLeaf: 1 },
  });
  const p = m.predict({ n: 4, numeric: Float32Array.of(0, 0.29, 0.3, 0.99), categories: [] }).values!;
  assert.deepEqual(
    Array.from(p, (v) => Math.round(v * 1e5) / 1e5),
    [1, 1, 5, 5],
  );
});

test('boosting fits a two-step function with noise features to within 0.05', () => {
  const rand = mulberry32(5);
  const X: number[] = [];
  const y: number[] = [];
  const step = (x: number) => (x < -0.5 ? -3 : x < 0.4 ? 2 : 7);
  for (let i = 0; i < 2000; i++) {
    const x = rand() * 2 - 1;
    X.push(x, rand());
    y.push(step(x));
  }
  const m = train({
    schema: regression(['x', 'noise']),
    train: makeRows(X, y),
    params: { iterations: 60, learningRate: 0.3 },
  });
  const probe = [-0.9, -0.6, -0.4, 0, 0.3, 0.5, 0.9];
  const p = m.predict({
    n: probe.length,
    numeric: Float32Array.from(probe.flatMap((x) => [x, 0.5])),
    categories: [],
  }).values!;
  probe.forEach((x, i) => assert.ok(Math.abs(p[i] - step(x)) < 0.05, `f(${x}) = ${p[i]}, want ${step(x)}`));
});

test('learns an XOR interaction that no single split can', () => {
  const rand = mulberry32(9);
  const make = (n: number) => {
    const X: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = rand() * 2 - 1;
      const b = rand() * 2 - 1;
      X.push(a, b);
      y.push(a > 0 !== b > 0 ? 1 : 0);
    }
    return makeRows(X, y);
  };
  const dev = make(500);
  const m = train({ schema: binary(['a', 'b']), train: make(2000), dev, params: { iterations: 50, maxDepth: 2 } });
  const pred = m.predict(dev.features).classIndex!;
  const acc = pred.reduce((s, c, i) => s + (c === dev.y[i] ? 1 : 0), 0) / dev.y.length;
  assert.ok(acc > 0.95, `XOR dev accuracy ${acc}`);
});

test('multi-class on iris: dev accuracy ≥ 0.9, probabilities sum to 1, one tree per class per iteration', () => {
  const { schema, train: tr, dev } = readClassificationCsv(IRIS_CSV);
  const m = train({ schema, train: tr, dev, params: { iterations: 30, minSamplesLeaf: 5 } });
  const p = m.predict(dev.features);
  const acc = p.classIndex!.reduce((s, c, i) => s + (c === dev.y[i] ? 1 : 0), 0) / dev.y.length;
  assert.ok(acc >= 0.9, `iris dev accuracy ${acc}`);
  for (let i = 0; i < dev.y.length; i++) {
    const s = p.probabilities![i * 3] + p.probabilities![i * 3 + 1] + p.probabilities![i * 3 + 2];
    assert.ok(Math.abs(s - 1) < 1e-6);
  }
  assert.equal(treeCount(m), 90);
});

test('learns which side missing values belong to, per split', () => {
  // y is high for NaN and for x > 0.5: NaN must go right (with the high side); then the reverse.
  for (const nanWithHigh of [true, false]) {
    const X: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 300; i++) {
      const x = i % 3 === 0 ? NaN : (i % 100) / 100;
      X.push(x);
      const high = Number.isNaN(x) ? nanWithHigh : x > 0.5;
      y.push(high ? 10 : 0);
    }
    const m = train({
      schema: regression(['x']),
      train: makeRows(X, y),
      params: { iterations: 20, learningRate: 0.5, minSamplesLeaf: 5 },
    });
    const p = m.predict({ n: 3, numeric: Float32Array.of(NaN, 0.1, 0.9), categories: [] }).values!;
    assert.ok(Math.abs(p[0] - (nanWithHigh ? 10 : 0)) < 0.1, `NaN → ${p[0]}`);
    assert.ok(Math.abs(p[1]) < 0.1 && Math.abs(p[2] - 10) < 0.1, `${p[1]}, ${p[2]}`);
  }
});

test('early stopping stops after `patience` iterations without dev improvement and keeps the best iteration count', () => {
  // Pure-noise labels: the dev loss stops improving almost at once.
  const rand = mulberry32(2);
  const make = (n: number) => {
    const X: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      X.push(rand(), rand(), rand());
      y.push(rand() < 0.5 ? 1 : 0);
    }
    return makeRows(X, y);
  };
  const events: ProgressEvent[] = [];
  const m = train({
    schema: binary(['a', 'b', 'c']),
    train: make(600),
    dev: make(300),
    params: { iterations: 200, earlyStopping: 5, learningRate: 0.3 },
    onProgress: (e) => events.push(e),
  });
  const last = events[events.length - 1].step;
  assert.ok(last < 200, `ran all ${last} iterations`);
  // The model keeps the trees up to the best iteration, `patience` before the last one run.
  assert.equal(treeCount(m), last - 5);
});

test('same data, parameters and seed give the same model bytes', () => {
  const { X, y } = generatedClassification(3000, 6, 4, 0.1);
  const run = () =>
    train({ schema: binary(['a', 'b', 'c', 'd', 'e', 'f']), train: makeRows(X, y), params: { iterations: 15 } }).toOnnx(
      META,
    );
  assert.deepEqual(run(), run());
});

test('cancellation stops training with CancelledError within an iteration', () => {
  const { X, y } = generatedClassification(3000, 6, 4);
  let calls = 0;
  let progressed = 0;
  assert.throws(
    () =>
      train({
        schema: binary(['a', 'b', 'c', 'd', 'e', 'f']),
        train: makeRows(X, y),
        params: { iterations: 1000 },
        onProgress: () => progressed++,
        isCancelled: () => ++calls > 3,
      }),
    CancelledError,
  );
  assert.ok(progressed <= 3, `${progressed} progress events after cancel`);
});

/** Resolves once no histogram helper thread is alive (a terminated worker exits asynchronously); fails after 5 s. */
async function helpersGone(): Promise<void> {
  const deadline = Date.now() + 5000;
  while (BoostingWorkspace.liveHelpers > 0) {
    assert.ok(
      Date.now() < deadline,
      `${BoostingWorkspace.liveHelpers} histogram helper thread(s) still alive 5 s after the fit`,
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('a fit large enough for two threads uses the helper thread, gives the same bytes each time, and leaves no thread alive after finishing or cancel', async (t) => {
  if (availableParallelism() < 2) return t.skip('one core: gbdt builds on one thread');
  // 20,000 × 50 = 1,000,000 cells: the size from which trainGbdt builds on two threads.
  const { X, y } = generatedClassification(20_000, 50, 31, 0.1);
  const schema = binary(Array.from({ length: 50 }, (_, j) => `x${j}`));
  let helpersDuringFit = 0;
  const run = () =>
    train({
      schema,
      train: makeRows(X, y),
      params: { iterations: 4 },
      onProgress: () => (helpersDuringFit = Math.max(helpersDuringFit, BoostingWorkspace.liveHelpers)),
    }).toOnnx(META);
  const first = run();
  assert.equal(helpersDuringFit, 1, 'one helper thread while training');
  await helpersGone();
  assert.deepEqual(run(), first);
  await helpersGone();
  let calls = 0;
  assert.throws(
    () => train({ schema, train: makeRows(X, y), params: { iterations: 1000 }, isCancelled: () => ++calls > 2 }),
    CancelledError,
  );
  await helpersGone();
});

test('bad parameters are rejected with a TrainingError naming the parameter', () => {
  const tr = makeRows([1, 2, 3, 4], [0, 1, 0, 1]);
  const cases: [Record<string, unknown>, string][] = [
    [{ maxBins: 256 }, 'maxBins'],
    [{ maxBins: 1 }, 'maxBins'],
    [{ learningRate: -0.1 }, 'learningRate'],
    [{ learningRate: 0 }, 'learningRate'],
    [{ iterations: 0 }, 'iterations'],
    [{ iterations: 2.5 }, 'iterations'],
    [{ maxLeaves: 1 }, 'maxLeaves'],
    [{ maxDepth: -1 }, 'maxDepth'],
    [{ minSamplesLeaf: 0 }, 'minSamplesLeaf'],
    [{ l2: -1 }, 'l2'],
    [{ earlyStopping: -3 }, 'earlyStopping'],
    [{ earlyStopping: 'yes' }, 'earlyStopping'],
  ];
  for (const [params, name] of cases) {
    assert.throws(
      () => train({ schema: binary(['x']), train: tr, params }),
      (e: unknown) => e instanceof TrainingError && e.param === name && e.message.includes(name),
      JSON.stringify(params),
    );
  }
});

test('binary log loss: a progress listener gets the mean train loss of each iteration; without one the model is the same', () => {
  const { X, y } = generatedClassification(2_000, 4, 3, 0.1);
  const schema = binary(['a', 'b', 'c', 'd']);
  const events: ProgressEvent[] = [];
  const params = { iterations: 5 };
  const heard = train({ schema, train: makeRows(X, y), params, onProgress: (e) => events.push(e) });
  const silent = train({ schema, train: makeRows(X, y), params });
  assert.deepEqual(silent.toOnnx(META), heard.toOnnx(META));
  assert.equal(events.length, 5);
  // The reported loss is the mean log loss of the model after that many trees.
  const p = heard.predict(makeRows(X, y).features).probabilities!;
  let loss = 0;
  for (let i = 0; i < y.length; i++) loss -= Math.log(y[i] === 1 ? p[2 * i + 1] : p[2 * i]);
  const last = events[4].trainLoss!;
  assert.ok(Math.abs(last - loss / y.length) < 1e-5, `${last} vs ${loss / y.length}`);
  assert.ok(events[0].trainLoss! > last);
});

test('a one-class target and a diverging loss are TrainingErrors', () => {
  assert.throws(
    () => train({ schema: binary(['x']), train: makeRows([1, 2, 3], [1, 1, 1]) }),
    (e: unknown) => e instanceof TrainingError && e.param === 'target',
  );
  // Targets near the float64 limit make the squared loss overflow at the first iteration.
  assert.throws(
    () =>
      train({
        schema: regression(['x']),
        train: makeRows([1, 2, 3, 4], [1e200, -1e200, 1e200, -1e200]),
        params: { minSamplesLeaf: 1 },
      }),
    (e: unknown) => e instanceof TrainingError && e.step === 1 && /iteration 1/.test(e.message),
  );
});

test('radix sort of float32 values matches TypedArray sort, negatives, zeros and ties included', () => {
  const rand = mulberry32(8);
  const values = Float32Array.from({ length: 5000 }, (_, i) =>
    i % 10 === 0 ? 0 : i % 17 === 0 ? -3.5 : (rand() - 0.5) * 10 ** Math.floor(rand() * 8 - 4),
  );
  values[1] = -0;
  values[2] = -Infinity;
  values[3] = Infinity;
  const expected = values.slice().sort();
  const sorted = radixSortFloat32(values.slice(), new Float32Array(values.length));
  assert.deepEqual(
    Array.from(sorted, (v) => (v === 0 ? 0 : v)),
    Array.from(expected, (v) => (v === 0 ? 0 : v)),
  );
});

test('the WebAssembly sort of binning gives radix sort order (negatives, zeros, infinities, ties), any length up to its capacity', () => {
  const rand = mulberry32(9);
  const kernel = SortKernel.create(6_000);
  assert.ok(kernel, 'WebAssembly is available here');
  for (const m of [0, 1, 2, 255, 257, 6_000]) {
    const values = Float32Array.from({ length: m }, (_, i) =>
      i % 10 === 0 ? 0 : i % 17 === 0 ? -3.5 : (rand() - 0.5) * 10 ** Math.floor(rand() * 8 - 4),
    );
    if (m > 5) values.set([-0, -Infinity, Infinity, 3.4e38, -1.2e-38], 1);
    const expected = radixSortFloat32(values.slice(), new Float32Array(m));
    const sorted = kernel.sort(values.slice());
    assert.deepEqual(
      Array.from(sorted, (v) => (Object.is(v, -0) ? '-0' : v)),
      Array.from(expected, (v) => (Object.is(v, -0) ? '-0' : v)),
      `m = ${m}`,
    );
  }
  assert.throws(() => kernel.sort(new Float32Array(6_001)), RangeError);
});

test('the WebAssembly binning gives the JavaScript bins on one thread and two: NaN, infinities, values on thresholds, chunk edges, uneven bin counts', async () => {
  const rand = mulberry32(10);
  const n = 5_000; // more than two kernel chunks, not a multiple of one
  const d = 7;
  const X = new Float32Array(n * d);
  for (let i = 0; i < X.length; i++) {
    const f = i % d;
    const u = rand();
    // Column 0 few distinct values, column 1 heavy ties, the others continuous with extremes.
    X[i] =
      f === 0
        ? Math.floor(u * 3)
        : f === 1
          ? Math.round(u * 20) / 4
          : u < 0.03
            ? NaN
            : u < 0.04
              ? Infinity
              : u < 0.05
                ? -Infinity
                : (u - 0.5) * 10 ** f;
  }
  // Values equal to thresholds and their float32 neighbours.
  const mapper = BinMapper.fit(X, n, d, 255, 4);
  for (let f = 2; f < d; f++) {
    const t = mapper.thresholds[f];
    for (let k = 0; k < t.length && k < 60; k++) X[(10 * k + 3) * d + f] = t[k];
  }
  const kernelBins = mapper.transform(X, n);
  const padded = new Float32Array(256 * d).fill(Infinity);
  for (let f = 0; f < d; f++) padded.set(mapper.thresholds[f], 256 * f);
  const jsBins = BinMapper.transformInJavaScript(X, n, d, padded, mapper.nBins, new Uint8Array(n * d));
  assert.ok(BinKernel.transform(X, n, d, padded, mapper.nBins, new Uint8Array(n * d)), 'WebAssembly is available here');
  assert.deepEqual(kernelBins, jsBins);
  // On two threads (the helper takes every other chunk; an odd chunk count leaves the last to this thread).
  for (const chunkRows of [700, 1000, n]) {
    const twoThreads = new Uint8Array(n * d);
    assert.ok(BinKernel.transform(X, n, d, padded, mapper.nBins, twoThreads, { threads: 2, chunkRows }));
    assert.deepEqual(twoThreads, jsBins, `two threads, ${chunkRows} rows per chunk`);
  }
  await helpersGone();
  assert.ok(
    mapper.nBins[0] === 3 && mapper.nBins[1] === 21 && mapper.nBins[4] > 250,
    `bins per column ${Array.from(mapper.nBins)}`,
  );
});

test('trees grown on two threads are the same as on one, and so are the scores they add (columns with missing values too)', () => {
  // Large enough that jobs pass the parallel threshold (rows × columns ≥ 100,000).
  const { X, y } = generatedClassification(30_000, 8, 12, 0.05);
  // Missing values in every column (the split search's other loop), more in the helper's columns.
  for (let i = 0; i < X.length; i += 13 + (i % 8 >= 4 ? 0 : 20)) X[i] = NaN;
  const n = y.length;
  const mapper = BinMapper.fit(X, n, 8, 255, 1);
  const bins = mapper.transform(X, n);
  const g = Float64Array.from(y, (v, i) => v - 0.5 + 0.01 * Math.sin(i));
  const h = Float64Array.from(y, (_, i) => 0.2 + 0.05 * Math.cos(i));
  const opts = { maxLeaves: 31, maxDepth: Infinity, minSamplesLeaf: 20, l2: 0, learningRate: 0.1 };
  const one = new TreeGrower(bins, n, mapper, { ...opts, threads: 1 });
  const two = new TreeGrower(bins, n, mapper, { ...opts, threads: 2 });
  // Binned straight into the workspace's memory (as trainGbdt does): the same tree.
  const direct = new TreeGrower((into) => mapper.transform(X, n, into), n, mapper, { ...opts, threads: 2 });
  try {
    const a = one.grow(one.setGradients(g, h));
    const b = two.grow(two.setGradients(g, h));
    assert.equal(a.feature.filter((f) => f < 0).length, 31);
    assert.deepEqual(b, a);
    assert.deepEqual(direct.grow(direct.setGradients(g, h)), a);
    // Leaf values reach the same scores (the helper adds those of the second half of the rows array).
    one.addToScores(a, 0);
    two.addToScores(b, 0);
    assert.ok(one.scores.some((v) => v !== 0));
    assert.deepEqual(two.scores, one.scores);
    // A second tree reuses the helper thread.
    g.reverse();
    assert.deepEqual(two.grow(two.setGradients(g, h)), one.grow(one.setGradients(g, h)));
  } finally {
    one.dispose();
    two.dispose();
    direct.dispose();
  }
});

test('two-thread histogram jobs stay correct and never hang over many back-to-back jobs', { timeout: 120_000 }, () => {
  const n = 12_000;
  const d = 10;
  const rand = mulberry32(21);
  const bins = Uint8Array.from({ length: n * d }, () => Math.floor(rand() * 64));
  const featureOffset = Int32Array.from({ length: d + 1 }, (_, f) => f * 65);
  const g = Float64Array.from({ length: n }, () => rand() - 0.5);
  const h = Float64Array.from({ length: n }, () => rand());
  const one = new BoostingWorkspace(bins, n, featureOffset, { threads: 1 });
  const two = new BoostingWorkspace(bins, n, featureOffset, { threads: 2 });
  try {
    assert.ok(two.parallel, 'the helper thread started');
    for (let i = 0; i < n; i++) one.rows[i] = two.rows[i] = i;
    const a = one.histogram(0);
    const b = two.histogram(0);
    one.setGradients(g, h);
    two.setGradients(g, h);
    for (let job = 0; job < 600; job++) {
      // Windows of 10,000 rows × 10 columns, each a job for both threads.
      const start = job % 2000;
      one.buildLeaf(0, start, start + 10_000);
      two.buildLeaf(0, start, start + 10_000);
      if (job % 100 === 0) assert.deepEqual(b, a, `job ${job}`);
    }
    assert.deepEqual(b, a);
    assert.ok(two.parallel, 'no helper failure');
  } finally {
    one.dispose();
    two.dispose();
  }
});

test('a step gives the same histograms and best splits wherever the columns are shared out between the threads', () => {
  const n = 12_000;
  const d = 10;
  const rand = mulberry32(23);
  const nBins = Uint16Array.from({ length: d }, (_, f) => 20 + 4 * f);
  const bins = Uint8Array.from({ length: n * d }, (_, i) => Math.floor(rand() * (nBins[Math.floor(i / n)] + 1)));
  const featureOffset = new Int32Array(d + 1);
  for (let f = 0; f < d; f++) featureOffset[f + 1] = featureOffset[f] + nBins[f] + 1;
  const g = Float64Array.from({ length: n }, (_, i) => rand() - 0.5 + (bins[7 * n + i] < 10 ? 0.3 : 0));
  const h = Float64Array.from({ length: n }, () => 0.1 + rand());
  const split = { nBins, l2: 1, minSamplesLeaf: 20, minHessian: 1e-3 };
  /** Root histogram and split, then a child's (its first 4,000 rows) with its sibling by subtraction. */
  const run = (w: BoostingWorkspace) => {
    for (let i = 0; i < n; i++) w.rows[i] = i;
    const sums = w.setGradients(g, h);
    const root = Array.from(w.step(0, -1, n, -1, [{ hist: 0, count: n, g: sums.g, h: sums.h }]).subarray(0, 6));
    const children = Array.from(
      w
        .step(1, 0, 4_000, 0, [
          { hist: 1, count: 4_000, g: 0.2 * sums.g, h: 0.3 * sums.h },
          { hist: 0, count: n - 4_000, g: 0.8 * sums.g, h: 0.7 * sums.h },
        ])
        .subarray(0, 12),
    );
    return { root, children, hist0: w.histogram(0).slice(), hist1: w.histogram(1).slice() };
  };
  const one = new BoostingWorkspace(bins, n, featureOffset, { threads: 1, split, slotCapacity: 2 });
  const expected = run(one);
  one.dispose();
  assert.ok(expected.root[0] > 0 && expected.children[0] > 0, 'splits found');
  for (const helperColumnsFrom of [1, 3, 9]) {
    const two = new BoostingWorkspace(bins, n, featureOffset, {
      threads: 2,
      split,
      slotCapacity: 2,
      helperColumnsFrom,
    });
    try {
      assert.ok(two.parallel, 'the helper thread started');
      assert.deepEqual(run(two), expected, `helper from column ${helperColumnsFrom}`);
      assert.ok(two.parallel, 'no helper failure');
    } finally {
      two.dispose();
    }
  }
});

/** The helper thread's control words of a grower on two threads (private: for stray wake-ups). */
function helperControl(grower: TreeGrower): Int32Array {
  const control = (grower as unknown as { workspace: { control: Int32Array | null } }).workspace.control;
  assert.ok(control, 'the helper thread started');
  return control;
}

test('boosting on two threads gives the same trees and scores as on one, bit for bit, even with the helper woken at any time', async () => {
  // 60,000 rows: the root and its large children are partitioned on two threads (from 20,000 rows in
  // a leaf), and the score adds too (from 20,000 rows). Binary (range gradients), then 3 classes (softmax).
  const d = 8;
  for (const classes of [2, 3]) {
    const { X, y } = generatedClassification(60_000, d, 12, 0.05);
    const n = y.length;
    const target = Float64Array.from(y, (v, i) => (classes === 2 ? v : (v + (i % 3 === 0 ? 1 : 0)) % classes));
    const mapper = BinMapper.fit(X, n, d, 255, 1);
    const bins = mapper.transform(X, n);
    const k = classes === 2 ? 1 : classes;
    const opts = { maxLeaves: 31, maxDepth: Infinity, minSamplesLeaf: 20, l2: 0, learningRate: 0.3, scoreColumns: k };
    const growers = [1, 2].map((threads) => new TreeGrower(bins, n, mapper, { ...opts, threads }));
    const failures = BoostingWorkspace.helperFailures;
    // A thread waking the helper all along: a wake-up with no new job must not run the last job again.
    const stopWakeups = strayWakeups(helperControl(growers[1]), HELPER_JOB);
    try {
      const trees = growers.map((grower) => {
        grower.y.set(target);
        const grown = [];
        for (let iteration = 0; iteration < (classes === 2 ? 8 : 3); iteration++) {
          if (k > 1) grower.softmaxGradients();
          for (let c = 0; c < k; c++) {
            const tree = grower.grow(
              k > 1 ? grower.columnGradients(c) : grower.gradients(binaryLogLoss.rangeGradients),
            );
            grower.addToScores(tree, c);
            grown.push(tree);
          }
        }
        return grown;
      });
      assert.equal(trees[1].length, trees[0].length);
      for (let t = 0; t < trees[0].length; t++)
        assert.deepEqual(trees[1][t], trees[0][t], `${classes} classes, tree ${t}`);
      assert.deepEqual(growers[1].scores, growers[0].scores);
      assert.ok(helperControl(growers[1]), 'the helper thread worked to the end');
      assert.equal(BoostingWorkspace.helperFailures, failures, 'no helper job failed');
    } finally {
      await stopWakeups();
      for (const grower of growers) grower.dispose();
    }
  }
});

test('a helper thread failing partway through a partition fails with a clear error rather than redoing its rewritten half', () => {
  const n = 60_000;
  const featureOffset = Int32Array.of(0, 41, 82);
  const bins = Uint8Array.from({ length: 2 * n }, (_, i) => i % 40);
  const two = new BoostingWorkspace(bins, n, featureOffset, { threads: 2 });
  try {
    assert.equal(two.parallel, true);
    for (let i = 0; i < n; i++) two.rows[i] = i;
    // A row index past the memory, late in the helper's half (rows 30,000..60,000): its kernel traps
    // there, after rewriting the rows before it in place.
    two.rows[n - 10] = 0x7fffffff;
    const failures = BoostingWorkspace.helperFailures;
    assert.throws(
      () => two.partition(0, n, 1, 20, 40, false),
      (e: Error) =>
        e instanceof TrainingError &&
        /helper thread failed while partitioning rows 30000\.\.60000 of a leaf, which cannot be redone: RuntimeError: memory access out of bounds/.test(
          e.message,
        ),
    );
    assert.equal(BoostingWorkspace.helperFailures, failures + 1);
    assert.equal(two.parallel, false, 'the helper thread is stopped');
  } finally {
    two.dispose();
  }
});

test('partitions (kernel on one and two threads, JavaScript fallback) put the rows in the same stable order as a filter', () => {
  const n = 60_000;
  const d = 3;
  const rand = mulberry32(31);
  const nBins = 40;
  // Column 1 has missing values (bin nBins); rows of a leaf are a scrambled subset, as after splits.
  const bins = Uint8Array.from({ length: n * d }, (_, i) =>
    Math.floor(i / n) === 1 && rand() < 0.1 ? nBins : Math.floor(rand() * nBins),
  );
  const featureOffset = Int32Array.from({ length: d + 1 }, (_, f) => f * (nBins + 1));
  const order = Uint32Array.from({ length: n }, (_, i) => (i * 7919) % n);
  const one = new BoostingWorkspace(bins, n, featureOffset, { threads: 1 });
  const two = new BoostingWorkspace(bins, n, featureOffset, { threads: 2 });
  try {
    assert.equal(two.parallel, true);
    // Ranges below and above the size from which the helper takes half; odd lengths included.
    for (const [start, end] of [
      [0, n],
      [100, 50_101],
      [5, 1_000],
      [30_000, 59_999],
    ]) {
      for (const [feature, bin, missingLeft] of [
        [0, 17, false],
        [1, 5, true],
        [1, 5, false],
        [2, 39, false],
      ] as const) {
        one.rows.set(order);
        two.rows.set(order);
        const rows = Array.from(order.subarray(start, end));
        const goesLeft = (r: number) =>
          bins[feature * n + r] <= bin || (missingLeft && bins[feature * n + r] === nBins);
        const expected = [...rows.filter(goesLeft), ...rows.filter((r) => !goesLeft(r))];
        const mid1 = one.partition(start, end, feature, bin, nBins, missingLeft);
        const mid2 = two.partition(start, end, feature, bin, nBins, missingLeft);
        assert.equal(mid1, start + rows.filter(goesLeft).length);
        assert.equal(mid2, mid1);
        assert.deepEqual(Array.from(one.rows.subarray(start, end)), expected);
        assert.deepEqual(Array.from(two.rows.subarray(start, end)), expected);
        // The JavaScript fallback: left rows in place, right rows in the scratch array.
        const jsRows = order.slice();
        const scratch = new Uint32Array(n);
        const l = partitionRows(jsRows, scratch, bins, feature * n, bin, nBins, missingLeft ? 1 : 0, start, end);
        assert.deepEqual([...jsRows.subarray(start, start + l), ...scratch.subarray(start, end - l)], expected);
        // Rows outside the range are untouched.
        assert.deepEqual(two.rows.subarray(0, start), order.subarray(0, start));
        assert.deepEqual(two.rows.subarray(end), order.subarray(end));
      }
    }
    assert.equal(two.parallel, true, 'no helper failure');
  } finally {
    one.dispose();
    two.dispose();
  }
});

test("a tree's leaf values added to the scores (kernel on one and two threads) are the JavaScript fallback's, in the score column only", () => {
  const n = 60_001;
  const k = 3;
  const rand = mulberry32(57);
  const featureOffset = Int32Array.of(0, 2, 4);
  const workspaces = [1, 2].map(
    (threads) =>
      new BoostingWorkspace(new Uint8Array(2 * n), n, featureOffset, { threads, scoreColumns: k, slotCapacity: 31 }),
  );
  try {
    assert.equal(workspaces[1].parallel, true);
    const order = Uint32Array.from({ length: n }, (_, i) => (i * 7919) % n);
    const scores = Float64Array.from({ length: n * k }, () => rand() - 0.5);
    // 31 leaves tiling the rows array at uneven places (one empty), with values of every size.
    const cuts = [0, ...Array.from({ length: 30 }, () => Math.floor(rand() * n)).sort((a, b) => a - b), n];
    cuts[5] = cuts[4];
    const ranges = new Float64Array(3 * 31);
    for (let i = 0; i < 31; i++)
      ranges.set([cuts[i], cuts[i + 1], (rand() - 0.5) * 10 ** Math.floor(rand() * 6 - 3)], 3 * i);
    for (const w of workspaces) {
      w.rows.set(order);
      w.scores.set(scores);
      w.leafRanges.set(ranges);
    }
    const expected = scores.slice();
    for (const column of [1, 0, 2, 1]) {
      for (const w of workspaces) w.addLeafValues(31, column);
      addLeafValues(expected, order, ranges, 31, k, column, 0, n);
      for (const w of workspaces) assert.deepEqual(w.scores, expected, `column ${column}`);
    }
    // Only the first `count` leaves: the rows of the others keep their scores.
    for (const w of workspaces) w.addLeafValues(3, 2);
    addLeafValues(expected, order, ranges, 3, k, 2, 0, n);
    for (const w of workspaces) assert.deepEqual(w.scores, expected, 'three leaves');
    assert.equal(workspaces[1].parallel, true, 'no helper failure');
  } finally {
    for (const w of workspaces) w.dispose();
  }
});

test('gradients on two threads equal those on one: float32 per row, the same sums, the loss of the scores', () => {
  const n = 50_001;
  const bins = new Uint8Array(n * 2);
  const featureOffset = Int32Array.of(0, 2, 4);
  const builders = [1, 2].map((threads) => new BoostingWorkspace(bins, n, featureOffset, { threads }));
  try {
    assert.equal(builders[1].parallel, true);
    for (const b of builders) {
      const r = mulberry32(42);
      for (let i = 0; i < n; i++) {
        b.scores[i] = (r() - 0.5) * 8;
        b.y[i] = r() < 0.4 ? 1 : 0;
      }
    }
    const scores = builders[0].scores.slice();
    const y = builders[0].y.slice();
    const meanLoss = binaryLogLoss.meanLoss(scores, y);
    const [a, b] = builders.map((x) => x.gradients(binaryLogLoss.rangeGradients));
    assert.deepEqual(b, a);
    assert.ok(Math.abs(a.loss / n - meanLoss) < 1e-12, `${a.loss / n} vs ${meanLoss}`);
    // g = σ(score) - y, rounded to float32 per row, then summed.
    let sumG = 0;
    for (let i = 0; i < n; i++) sumG += Math.fround(1 / (1 + Math.exp(-scores[i])) - y[i]);
    // The two halves are added separately, then together: equal to one running sum within rounding.
    assert.ok(Math.abs(a.g - sumG) < 1e-9 * n, `${a.g} vs ${sumG}`);
    // The histograms of the root (one column's bins sum every row) agree with the float32 gradients.
    for (const x of builders) x.buildRoot(0);
    assert.deepEqual(builders[1].histogram(0), builders[0].histogram(0));
    assert.equal(builders[0].histogram(0)[2], n);
    // Without the loss the kernel computes them (binaryGradients, each thread its half): the same values.
    const withLoss = builders[0].histogram(0).slice();
    const [c, e] = builders.map((x) => x.gradients(binaryLogLoss.rangeGradients, false));
    assert.deepEqual(c, { ...a, loss: 0 });
    assert.deepEqual(e, c);
    for (const x of builders) x.buildRoot(0);
    assert.deepEqual(builders[0].histogram(0), withLoss);
    assert.deepEqual(builders[1].histogram(0), withLoss);
  } finally {
    for (const x of builders) x.dispose();
  }
});

test('softmax gradients on two threads equal those on one and the float64 reference rounded to float32; the loss is the mean loss of the scores', () => {
  const n = 30_001;
  const k = 4;
  const bins = new Uint8Array(n * 2);
  const featureOffset = Int32Array.of(0, 2, 4);
  const builders = [1, 2].map((threads) => new BoostingWorkspace(bins, n, featureOffset, { threads, scoreColumns: k }));
  try {
    assert.equal(builders[1].parallel, true);
    for (const b of builders) {
      const r = mulberry32(43);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < k; c++) b.scores[i * k + c] = (r() - 0.5) * 6;
        b.y[i] = Math.floor(r() * k);
      }
    }
    const scores = builders[0].scores.slice();
    const y = builders[0].y.slice();
    const [lossA, lossB] = builders.map((x) => x.softmaxGradients());
    assert.equal(lossB, lossA);
    const meanLoss = softmaxLoss(k).meanLoss(scores, y);
    assert.ok(Math.abs(lossA / n - meanLoss) < 1e-12, `${lossA / n} vs ${meanLoss}`);
    for (let c = 0; c < k; c++) {
      const [a, b] = builders.map((x) => x.columnGradients(c));
      assert.deepEqual(b, a);
      // The reference: p_c - [y = c] from a float64 softmax, rounded to float32 per row, then summed.
      let sumG = 0;
      for (let i = 0; i < n; i++) {
        const row = Array.from(scores.subarray(i * k, (i + 1) * k));
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const p = e[c] / e.reduce((s, v) => s + v, 0);
        sumG += Math.fround(p - (y[i] === c ? 1 : 0));
      }
      assert.ok(Math.abs(a.g - sumG) < 1e-9 * n, `class ${c}: ${a.g} vs ${sumG}`);
      // What the histograms then sum: the root's bins over every row agree on both threads.
      for (const x of builders) x.buildRoot(0);
      assert.deepEqual(builders[1].histogram(0), builders[0].histogram(0));
    }
  } finally {
    for (const x of builders) x.dispose();
  }
});

/**
 * Random column-major bins of n rows × d columns (column f with nBins(f) bins and its missing bin),
 * gradients and hessians, and the reference histogram of a leaf's rows: every row in order, one
 * column at a time, on the gradients rounded to float32 as the workspace keeps them.
 */
function histogramCase(n: number, d: number, seed: number, nBins: (f: number) => number) {
  const rand = mulberry32(seed);
  const featureOffset = new Int32Array(d + 1);
  for (let f = 0; f < d; f++) featureOffset[f + 1] = featureOffset[f] + nBins(f) + 1;
  const bins = new Uint8Array(n * d);
  for (let f = 0; f < d; f++) for (let i = 0; i < n; i++) bins[f * n + i] = Math.floor(rand() * (nBins(f) + 1));
  const g = Float64Array.from({ length: n }, () => rand() - 0.5);
  const h = Float64Array.from({ length: n }, () => rand());
  const gh = new Float32Array(ENTRY * n);
  for (let i = 0; i < n; i++) gh.set([g[i], h[i], 1, 0], ENTRY * i);
  const reference = (rows: ArrayLike<number>) => {
    const out = new Float32Array(featureOffset[d] * ENTRY);
    accumulateHistogram(out, bins, n, featureOffset, 0, d, Uint32Array.from(rows), 0, rows.length, gh);
    return out;
  };
  return { bins, featureOffset, g, h, reference };
}

test('the WebAssembly histogram kernel gives exactly the JavaScript reference sums, root and leaves, on one and two threads', () => {
  // 11 columns: two groups of four plus three single ones; uneven bin counts per column.
  const n = 20_011;
  const { bins, featureOffset, g, h, reference } = histogramCase(n, 11, 5, (f) => 3 + ((f * 37) % 253));
  for (const threads of [1, 2]) {
    const b = new BoostingWorkspace(bins, n, featureOffset, { threads });
    try {
      assert.ok(b.wasm, 'the WebAssembly kernel is in use');
      assert.equal(b.parallel, threads === 2);
      b.setGradients(g, h);
      b.buildRoot(0);
      assert.deepEqual(b.histogram(0), reference(Array.from({ length: n }, (_, i) => i)));
      // A leaf: a third of the rows, in a scrambled order (the kernel follows rows[] as given).
      const leafRows = Array.from({ length: Math.floor(n / 3) }, (_, k) => (k * 3 * 7919) % n);
      b.rows.set(leafRows, 100);
      b.buildLeaf(1, 100, 100 + leafRows.length);
      assert.deepEqual(b.histogram(1), reference(leafRows));
      // The sibling by subtraction equals the parent's sums minus the child's, value by value.
      const expected = b.histogram(0).map((v, i) => v - b.histogram(1)[i]);
      b.subtract(0, 1);
      assert.deepEqual(b.histogram(0), expected);
      // A sparse leaf (under 1 / SPARSE_LEAF of the rows): its rows' bins gathered from the row-major copy.
      const sparseRows = leafRows.slice(0, Math.floor(n / SPARSE_LEAF) - 1);
      b.buildLeaf(2, 100, 100 + sparseRows.length);
      assert.deepEqual(b.histogram(2), reference(sparseRows));
      // Histogram slots beyond the first memory pages grow the kernel's memory (and stop the helper
      // thread, which was started with fewer); earlier ones stay intact, later jobs stay exact.
      const kept = b.histogram(1).slice();
      for (let s = 2; s < 40; s++) b.buildLeaf(s, 100, 100 + 50);
      assert.deepEqual(b.histogram(39), reference(leafRows.slice(0, 50)));
      assert.deepEqual(b.histogram(1), kept);
      b.buildLeaf(38, 100, 100 + leafRows.length);
      assert.deepEqual(b.histogram(38), reference(leafRows));
      assert.equal(b.parallel, false);
    } finally {
      b.dispose();
    }
  }
});

test('histograms of leaves over several gathered chunks, sparse and dense, give the JavaScript reference sums on one and two threads, multi-class too', () => {
  // Sparse leaves of more than two chunks need SPARSE_LEAF × 2.5 chunks of rows.
  const n = Math.ceil(SPARSE_LEAF * 2.5 * HIST_CHUNK) + 7;
  const { bins, featureOffset, g, h, reference } = histogramCase(n, 13, 9, (f) => 2 + ((f * 53) % 254));
  // Ascending rows as a leaf holds them: a sparse one (every SPARSE_LEAF + 1-th row, last row included) and a dense one.
  const sparse = Uint32Array.from(
    { length: Math.floor((n - 1) / (SPARSE_LEAF + 1)) + 1 },
    (_, k) => n - 1 - k * (SPARSE_LEAF + 1),
  ).reverse();
  const dense = Uint32Array.from({ length: Math.floor(n / 3) }, (_, k) => 3 * k + 1);
  assert.ok(sparse.length > 2 * HIST_CHUNK && sparse.length * SPARSE_LEAF < n);
  // Up to 3 score columns the sparse leaf's bins are gathered from the row-major copy; with more
  // (multi-class beyond 3 classes) there is no copy, every leaf read from the columns.
  for (const [threads, scoreColumns] of [
    [1, 1],
    [2, 1],
    [2, 3],
    [2, 4],
  ]) {
    const b = new BoostingWorkspace(bins, n, featureOffset, { threads, scoreColumns });
    try {
      assert.equal(b.parallel, threads === 2);
      b.setGradients(g, h);
      for (const rows of [sparse, dense]) {
        b.rows.set(rows);
        b.buildLeaf(0, 0, rows.length);
        assert.deepEqual(b.histogram(0), reference(rows));
      }
      assert.equal(b.parallel, threads === 2, 'no helper failure');
    } finally {
      b.dispose();
    }
  }
});

test('the log-loss gradients of the kernel are the bits of binaryRangeGradients (its exp twin included: clamps, halves, NaN), and e^x within 4 ulps of Math.exp', () => {
  const module = histKernelModule();
  assert.ok(module, 'the WebAssembly kernel compiles here');
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const exp = ex.exp as (x: number) => number;
  const binaryGradients = ex.binaryGradients as (...args: number[]) => void;
  const rand = mulberry32(77);
  const ln2 = Math.LN2;
  // Scores at the clamps and beyond, where x log2(e) is close to a half (rounding to even), and random ones.
  const special = [
    0, -0, 1e-300, -1e-300, 707.9, 708, 708.1, 709, 709.5, 1e6, -707.9, -708, -708.1, -709, -709.5, -1e6,
  ];
  for (let k = -20; k <= 20; k++) special.push((k + 0.5) * ln2, -(k + 0.5) * ln2, (k + 0.5) / Math.LOG2E);
  special.push(Infinity, -Infinity, NaN);
  const scores = Float64Array.from([...special, ...Array.from({ length: 20_001 }, () => (rand() - 0.5) * 60)]);
  const n = scores.length;
  const y = Float64Array.from(scores, (_, i) => (i % 3 === 0 ? 1 : 0));
  const at = { scores: 0, y: 8 * n, gh: 16 * n, sums: 32 * n };
  new Float64Array(memory.buffer, at.scores, n).set(scores);
  new Float64Array(memory.buffer, at.y, n).set(y);
  const kernelGh = new Float32Array(memory.buffer, at.gh, ENTRY * n);
  binaryGradients(at.scores, at.y, at.gh, 0, n, at.sums);
  const gh = new Float32Array(ENTRY * n);
  const sums = new Float64Array(3);
  binaryRangeGradients(scores, y, gh, 0, n, 0, sums, 0);
  for (let i = 0; i < n; i++) {
    assert.ok(Object.is(kernelGh[ENTRY * i], gh[ENTRY * i]), `g of score ${scores[i]}`);
    assert.ok(Object.is(kernelGh[ENTRY * i + 1], gh[ENTRY * i + 1]), `h of score ${scores[i]}`);
  }
  const kernelSums = new Float64Array(memory.buffer, at.sums, 2);
  // NaN among the scores: the sums are NaN on both sides (how a diverging fit is caught).
  assert.ok(Number.isNaN(kernelSums[0]) && Number.isNaN(sums[1]));
  binaryGradients(at.scores, at.y, at.gh, special.length, n, at.sums);
  binaryRangeGradients(scores, y, gh, special.length, n, 0, sums, 0);
  assert.deepEqual(Array.from(kernelSums), [sums[1], sums[2]]);
  // Accuracy: e^x within 4 ulps of Math.exp over the clamped range.
  const ulp = (v: number) => 2 ** (Math.floor(Math.log2(v)) - 52);
  for (const x of [...scores.filter((v) => Math.abs(v) <= 700), 700, -700, 1, -1]) {
    const e = Math.exp(x);
    assert.ok(Math.abs(exp(x) - e) <= 4 * ulp(e), `exp(${x}): ${exp(x)} vs ${e}`);
  }
  assert.equal(exp(1e6), exp(709));
  assert.ok(Number.isNaN(exp(NaN)));
});

test('the softmax gradients of the kernel are the bits of softmaxRangeGradients (odd ranges, huge and NaN scores, the loss product scaled), and its loss the float64 one', () => {
  const module = histKernelModule();
  assert.ok(module, 'the WebAssembly kernel compiles here');
  const memory = new WebAssembly.Memory({ initial: 128, maximum: 128, shared: true });
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const softmaxGradients = ex.softmaxGradients as (...args: number[]) => void;
  assert.equal(kernelExp(-745.5), (ex.exp as (x: number) => number)(-745.5));
  for (const k of [3, 10]) {
    const rand = mulberry32(90 + k);
    // 20,001 rows: scores spread wide enough that some rows' e_c underflow to the clamp, and the rows'
    // product of S passes 2^512 many times; one row with a huge score, one with NaN (checked apart).
    const n = 20_001;
    const scores = Float64Array.from({ length: n * k }, () => (rand() - 0.5) * (rand() < 0.1 ? 3000 : 8));
    scores[5 * k + 1] = 1e300;
    const y = Float64Array.from({ length: n }, () => Math.floor(rand() * k));
    const at = { scores: 0, y: 8 * n * k, g: 8 * n * (k + 1), h: 8 * n * (k + 1) + 4 * n * k, x: 8 * n * (2 * k + 1) };
    const sumsAt = at.x + 16 * k;
    new Float64Array(memory.buffer, at.scores, n * k).set(scores);
    new Float64Array(memory.buffer, at.y, n).set(y);
    const kernelG = new Float32Array(memory.buffer, at.g, n * k);
    const kernelH = new Float32Array(memory.buffer, at.h, n * k);
    const kernelSums = new Float64Array(memory.buffer, sumsAt, 3);
    const g = new Float32Array(n * k);
    const h = new Float32Array(n * k);
    const sums = new Float64Array(3);
    // Ranges that start and end on odd rows (the kernel's last odd row alone), and the whole array.
    for (const [start, end] of [
      [0, n],
      [1, 4_002],
      [3, 3],
      [7, 8],
      [10_001, n],
    ]) {
      softmaxGradients(at.scores, at.y, at.g, at.h, k, n, start, end, at.x, sumsAt);
      softmaxRangeGradients(scores, y, g, h, k, n, start, end, sums, 0);
      assert.deepEqual(Array.from(kernelSums), Array.from(sums), `${k} classes, rows ${start}..${end}: loss sums`);
      for (let c = 0; c < k; c++)
        for (let i = start; i < end; i++) {
          const j = c * n + i;
          assert.ok(Object.is(kernelG[j], g[j]) && Object.is(kernelH[j], h[j]), `${k} classes, row ${i}, class ${c}`);
        }
    }
    // The kernel writes rows [start, end) only: the row before and after keep their values.
    kernelG.fill(7);
    softmaxGradients(at.scores, at.y, at.g, at.h, k, n, 3, 6, at.x, sumsAt);
    for (let c = 0; c < k; c++) assert.deepEqual([kernelG[c * n + 2], kernelG[c * n + 6]], [7, 7]);
    // The loss from the three sums is the float64 one, -log p_y summed in order.
    softmaxRangeGradients(scores, y, g, h, k, n, 0, n, sums, 0);
    assert.ok(sums[1] > 0, 'the product was scaled');
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(scores.subarray(i * k, (i + 1) * k));
      const m = Math.max(...row);
      loss += Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - (row[y[i]] - m);
    }
    assert.ok(Math.abs(softmaxLossOf(sums, 0) - loss) < 1e-12 * loss, `${softmaxLossOf(sums, 0)} vs ${loss}`);
    // A NaN score: its row's gradients and the loss are NaN on both sides (how a diverging fit is caught).
    new Float64Array(memory.buffer, at.scores, n * k)[2 * k] = NaN;
    scores[2 * k] = NaN;
    softmaxGradients(at.scores, at.y, at.g, at.h, k, n, 0, n, at.x, sumsAt);
    softmaxRangeGradients(scores, y, g, h, k, n, 0, n, sums, 0);
    assert.ok(Number.isNaN(softmaxLossOf(kernelSums, 0)) && Number.isNaN(softmaxLossOf(sums, 0)));
    assert.ok(Number.isNaN(kernelG[2]) && Number.isNaN(g[2]));
    assert.ok(Object.is(kernelG[n + 3], g[n + 3]));
  }
});

test('the interleave kernel gives the entries and sums of setGradients for a softmax column (each half of the rows summed apart)', () => {
  const module = histKernelModule();
  assert.ok(module, 'the WebAssembly kernel compiles here');
  const n = 10_001;
  const rand = mulberry32(88);
  const g = Float32Array.from({ length: n }, () => rand() - 0.5);
  const h = Float32Array.from({ length: n }, () => rand() * 0.25);
  const memory = new WebAssembly.Memory({ initial: 8, maximum: 8, shared: true });
  const interleave = new WebAssembly.Instance(module, { env: { memory } }).exports.interleave as (
    ...args: number[]
  ) => void;
  const at = { g: 0, h: 4 * n, gh: 8 * n, sums: 24 * n };
  new Float32Array(memory.buffer, at.g, n).set(g);
  new Float32Array(memory.buffer, at.h, n).set(h);
  const half = n >>> 1;
  const sums = new Float64Array(memory.buffer, at.sums, 4);
  interleave(at.g, at.h, at.gh, 0, half, at.sums);
  interleave(at.g, at.h, at.gh, half, n, at.sums + 16);
  const gh = new Float32Array(memory.buffer, at.gh, ENTRY * n);
  for (let i = 0; i < n; i++) assert.ok(gh[ENTRY * i] === g[i] && gh[ENTRY * i + 1] === h[i], `row ${i}`);
  const workspace = new BoostingWorkspace(new Uint8Array(n), n, Int32Array.of(0, 2), { threads: 1 });
  try {
    assert.deepEqual(workspace.setGradients(g, h), { loss: 0, g: sums[0] + sums[2], h: sums[1] + sums[3] });
  } finally {
    workspace.dispose();
  }
});
