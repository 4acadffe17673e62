// The bias/variance verdict: its arithmetic, its wording, the learning-curve reading, and two real
// trainings that must come out as high variance and high bias.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  errorOf,
  examplesToTell,
  readLearningCurve,
  verdictOf,
  verdictShort,
  wilsonInterval,
} from '../../../src/core/diagnose/biasVariance';
import { splitMetrics } from '../../../src/core/train/metrics';
import { getTrainer } from '../../../src/core/train/registry';
import { defaultParams } from '../../../src/core/spec/schema';
import { selectRows } from '../../../src/core/data/rows';
import { stratifiedOrder } from '../../../src/core/diagnose/retrain';
import type { SplitDataset } from '../../../src/core/data/types';
import type { LearningCurve } from '../../../src/core/diagnose/learningCurveTypes';
import { readClassificationCsv, rows, splitByIndex, prng } from '../train/fixtures';
import { DIGITS_CSV } from '../../datasets';

const acc = (accuracy: number) => ({ accuracy, f1: accuracy, logloss: 0.1 });

test('the three gaps and the dominant problem in points, with the issue wording', () => {
  const v = verdictOf({
    metric: 'accuracy',
    baseline: { error: 0.02 },
    train: acc(0.991),
    dev: acc(0.919),
    test: acc(0.915),
  });
  assert.equal(v.dominant, 'variance');
  // Train error 0.9 % is below the 2 % baseline: no avoidable bias left, never a negative one.
  assert.equal(v.avoidableBias, 0);
  assert.equal(v.passedBaseline, true);
  assert.ok(Math.abs(v.variance - 0.072) < 1e-12);
  assert.ok(Math.abs(v.mismatch! - 0.004) < 1e-12);
  assert.equal(v.summary, 'High variance: dev error 8.1% vs train 0.9% (baseline 2.0%)');
  assert.equal(v.severity, 'warning');
  assert.deepEqual(
    v.recommendations.map((r) => r.id),
    ['moreData', 'moreRegularization', 'earlyStopping', 'augmentation', 'fewerFeatures'],
  );
  assert.ok(!v.notes.some((n) => /assumed 0/.test(n)));
  assert.ok(v.notes.some((n) => /passed the baseline/.test(n)));
});

test('image runs: no feature advice; a smaller network, augmentation and regularization said for images', () => {
  const input = { metric: 'accuracy' as const, baseline: { error: 0.1 }, train: acc(0.8), dev: acc(0.7) };
  const both = verdictOf(input);
  assert.equal(both.both, true);
  assert.ok(both.recommendations.some((r) => r.id === 'fewerFeatures'));
  const v = verdictOf({ ...input, images: true });
  assert.equal(v.dominant, 'variance');
  assert.deepEqual(
    v.recommendations.map((r) => r.id),
    [
      'moreData',
      'moreRegularization',
      'earlyStopping',
      'augmentation',
      'smallerNetwork',
      'biggerModel',
      'trainLonger',
      'lessRegularization',
    ],
  );
  assert.ok(!v.recommendations.some((r) => /feature/i.test(r.text)), JSON.stringify(v.recommendations));
  assert.match(v.recommendations.find((r) => r.id === 'augmentation')!.text, /flips, crops/);
  assert.match(v.recommendations.find((r) => r.id === 'moreRegularization')!.text, /weight decay/);
});

test('Wilson 95% interval: the textbook values, and the examples needed to tell two rates apart', () => {
  // 1 error in 34 (the wine dev set): Wilson gives 0.5 %–14.9 %.
  const ci = wilsonInterval(1 / 34, 34);
  assert.ok(Math.abs(ci.low - 0.0052) < 5e-4 && Math.abs(ci.high - 0.1492) < 5e-4, JSON.stringify(ci));
  assert.equal(ci.n, 34);
  // 0 errors: the interval starts at 0 and is not empty.
  const zero = wilsonInterval(0, 100);
  assert.equal(zero.low, 0);
  assert.ok(zero.high > 0.03 && zero.high < 0.04);
  // To tell a 2.9 % dev error from 0 % train beyond a 1-point tolerance takes a few hundred examples.
  const n = examplesToTell(1 / 34, 0.01);
  assert.ok(n > 100 && n < 1000, String(n));
  assert.ok(wilsonInterval(1 / 34, n).low > 0.01 && wilsonInterval(1 / 34, n - 1).low <= 0.01);
  assert.equal(examplesToTell(0.1, 0.1), Infinity);
});

test('wine GBDT beating a 5% baseline on 34 dev examples: no negative bias, no variance warning, "too small to tell"', () => {
  const v = verdictOf({
    metric: 'accuracy',
    baseline: { error: 0.05 },
    train: acc(1),
    dev: acc(33 / 34),
    rows: { dev: 34 },
  });
  assert.ok(v.avoidableBias >= 0);
  assert.equal(v.passedBaseline, true);
  assert.equal(v.dominant, 'none');
  assert.equal(v.severity, 'information');
  assert.equal(v.undecided?.gap, 'variance');
  assert.equal(v.undecided?.examples, 34);
  assert.ok(v.undecided!.needed > 34);
  assert.match(
    v.summary,
    /^Dev set too small to tell: dev error 2\.9% \(95% CI 0\.5–14\.9%, 34 examples\) vs train 0\.0%/,
  );
  assert.ok(
    v.notes.some((n) =>
      new RegExp(`dev set \\(34 examples\\) is too small.*about ${v.undecided!.needed} dev examples`).test(n),
    ),
    v.notes.join('\n'),
  );
  assert.equal(v.recommendations[0].id, 'biggerEvalSet');
  // The CodeLens says the same, with the interval.
  assert.equal(verdictShort(v), 'Dev set too small to tell · dev 2.9% (95% CI 0.5–14.9%, 34 examples)');
  // The same gap on 2,000 dev examples is real variance.
  const big = verdictOf({
    metric: 'accuracy',
    baseline: { error: 0.05 },
    train: acc(1),
    dev: acc(1 - 58 / 2000),
    rows: { dev: 2000 },
  });
  assert.equal(big.dominant, 'variance');
  assert.equal(big.undecided, undefined);
  assert.match(big.summary, /^High variance: dev error 2\.9% \(95% CI \d\.\d–\d\.\d%, 2000 examples\)/);
});

test("a dev/test gap inside the test set's noise is no mismatch", () => {
  const v = verdictOf({
    metric: 'accuracy',
    baseline: { error: 0.01 },
    train: acc(0.99),
    dev: acc(0.985),
    test: acc(0.95),
    rows: { dev: 2000, test: 40 },
  });
  assert.equal(v.dominant, 'none');
  assert.equal(v.undecided?.gap, 'mismatch');
  assert.ok(v.testInterval && v.testInterval.n === 40);
  const real = verdictOf({
    metric: 'accuracy',
    baseline: { error: 0.01 },
    train: acc(0.99),
    dev: acc(0.985),
    test: acc(0.95),
    rows: { dev: 2000, test: 4000 },
  });
  assert.equal(real.dominant, 'mismatch');
});

test('no baseline: assumed 0, and the verdict says so and suggests estimating it', () => {
  const v = verdictOf({ metric: 'accuracy', train: acc(0.85), dev: acc(0.84) });
  assert.equal(v.baseline, 0);
  assert.equal(v.baselineAssumed, true);
  assert.equal(v.dominant, 'bias');
  assert.match(v.summary, /^High avoidable bias: train error 15\.0% vs baseline assumed 0/);
  assert.ok(v.notes.some((n) => /assumed 0.*estimate human-level/.test(n)));
  assert.equal(v.mismatch, null);
});

test('both bias and variance: the larger is tackled first and both sets of recommendations are given', () => {
  const v = verdictOf({ metric: 'accuracy', baseline: { error: 0 }, train: acc(0.9), dev: acc(0.85) });
  assert.equal(v.dominant, 'bias');
  assert.equal(v.both, true);
  assert.ok(v.notes.some((n) => /tackle avoidable bias first/.test(n)));
  assert.deepEqual(
    v.recommendations.slice(0, 2).map((r) => r.for),
    ['bias', 'bias'],
  );
  assert.ok(v.recommendations.some((r) => r.for === 'variance'));
});

test('dev/test mismatch; gaps under a point are no problem; regression errors are in the metric units', () => {
  const m = verdictOf({
    metric: 'accuracy',
    baseline: { error: 0.01 },
    train: acc(0.985),
    dev: acc(0.98),
    test: acc(0.9),
  });
  assert.equal(m.dominant, 'mismatch');
  assert.deepEqual(
    m.recommendations.map((r) => r.id),
    ['moreDevData'],
  );
  const ok = verdictOf({ metric: 'accuracy', baseline: { error: 0.01 }, train: acc(0.985), dev: acc(0.98) });
  assert.equal(ok.dominant, 'none');
  assert.equal(ok.severity, 'information');
  const r = verdictOf({
    metric: 'rmse',
    baseline: { error: 0.1 },
    train: { rmse: 2, mae: 1, r2: 0.5 },
    dev: { rmse: 2.05, mae: 1, r2: 0.5 },
  });
  assert.equal(r.dominant, 'bias');
  assert.match(r.summary, /train RMSE 2 vs baseline 0\.1/);
  assert.equal(errorOf('r2', { rmse: 1, mae: 1, r2: 0.75 }), 0.25);
});

function curve(points: [number, number][]): LearningCurve {
  return {
    metric: 'accuracy',
    durationMs: 0,
    key: 'k',
    points: points.map(([trainError, devError], i) => ({
      fraction: (i + 1) / points.length,
      trainSize: i + 1,
      trainError,
      devError,
    })),
  };
}

test('learning curve reading: still falling → more data helps; converged above the baseline → it will not', () => {
  const falling = curve([
    [0, 0.3],
    [0, 0.25],
    [0, 0.2],
    [0, 0.15],
    [0, 0.1],
  ]);
  assert.equal(readLearningCurve(falling, 0.02, 0.01), 'more-data-helps');
  const converged = curve([
    [0.1, 0.3],
    [0.15, 0.2],
    [0.18, 0.19],
    [0.185, 0.19],
    [0.185, 0.19],
  ]);
  assert.equal(readLearningCurve(converged, 0.02, 0.01), 'more-data-will-not-help');
  const v = verdictOf({
    metric: 'accuracy',
    baseline: { error: 0.02 },
    train: acc(0.815),
    dev: acc(0.81),
    learningCurve: converged,
  });
  assert.equal(v.learningCurveReading, 'more-data-will-not-help');
  assert.ok(!v.recommendations.some((r) => r.id === 'moreData'));
  assert.ok(v.notes.some((n) => /more data will not help/.test(n)));
});

test('a large MLP on a small training subset of digits is diagnosed as high variance', async () => {
  const full = readClassificationCsv(DIGITS_CSV);
  // 60 training rows (stratified), the dev split as is.
  const order = stratifiedOrder(full.train.y, true, 0);
  const F = full.schema.numeric.length;
  const data: SplitDataset = { ...full, train: selectRows(full.train, order.subarray(0, 60), F, 0) };
  const params = {
    ...defaultParams('mlp'),
    hidden: [256],
    epochs: 200,
    l2: 0,
    earlyStopping: false,
    learningRate: 0.01,
    batchSize: 32,
  };
  const model = await getTrainer('mlp')({ schema: data.schema, train: data.train, dev: data.dev, params, seed: 0 });
  const C = data.schema.classes!.length;
  const metric = (split: 'train' | 'dev') =>
    splitMetrics('classification', data[split].y, model.predict(data[split].features), C);
  const v = verdictOf({ metric: 'accuracy', baseline: { error: 0.02 }, train: metric('train'), dev: metric('dev') });
  assert.equal(v.dominant, 'variance', v.summary);
  assert.ok(v.trainError < 0.02 && v.variance > 0.05, v.summary);
  assert.match(v.summary, /^High variance/);
});

test('a linear model on a non-linear target is diagnosed as high bias', async () => {
  // y = x² + small noise, x in [-3, 3]: a straight line cannot follow it, on any split.
  const rand = prng(11);
  const n = 500;
  const x = Array.from({ length: n }, () => rand() * 6 - 3);
  const y = x.map((v) => v * v + (rand() - 0.5) * 0.2);
  const schema = { task: 'regression' as const, target: 'y', numeric: ['x'], categorical: [] };
  const data = splitByIndex(schema, rows(x, y));
  const model = await getTrainer('linear')({
    schema,
    train: data.train,
    dev: data.dev,
    params: { ...defaultParams('linear') },
    seed: 0,
  });
  const metric = (split: 'train' | 'dev') =>
    splitMetrics('regression', data[split].y, model.predict(data[split].features), 0);
  // The noise's RMSE (uniform ±0.1) is about 0.06: the baseline of a perfect model.
  const v = verdictOf({ metric: 'rmse', baseline: { error: 0.06 }, train: metric('train'), dev: metric('dev') });
  assert.equal(v.dominant, 'bias', v.summary);
  assert.ok(v.avoidableBias > 1, v.summary);
  assert.match(v.summary, /^High avoidable bias/);
  assert.equal(v.recommendations[0].id, 'biggerModel');
});
