// chart.js configurations built from a diagnosis: data in the right place, theme colours used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  biasVarianceChart,
  classCurvesChart,
  confusionHeatmap,
  importanceChart,
  learningCurveChart,
} from '../../../src/core/diagnose/charts';
import { verdictOf } from '../../../src/core/diagnose/biasVariance';

const palette = { foreground: '#111', muted: '#777', grid: '#ccc', series: ['#00f', '#f80', '#0a0'], warning: '#fc0' };
const acc = (accuracy: number) => ({ accuracy, f1: accuracy, logloss: 0.1 });

test('bias/variance bars: baseline, train, dev, test in percent, the dominant bar in the warning colour', () => {
  const v = verdictOf({
    metric: 'accuracy',
    baseline: { error: 0.02 },
    train: acc(0.99),
    dev: acc(0.9),
    test: acc(0.89),
  });
  const c = biasVarianceChart(v, palette);
  assert.deepEqual(c.data.labels, ['baseline', 'train', 'dev', 'test']);
  const ds = c.data.datasets[0];
  assert.deepEqual(
    (ds.data as number[]).map((x) => Number(x.toFixed(6))),
    [2, 1, 10, 11],
  );
  assert.deepEqual(ds.backgroundColor, ['#777', '#00f', '#fc0', '#00f']);
  const assumed = biasVarianceChart(verdictOf({ metric: 'accuracy', train: acc(0.8), dev: acc(0.8) }), palette);
  assert.equal(assumed.data.labels![0], 'baseline (assumed 0)');
});

test('learning curve: train and dev series against training size, and a dashed baseline across', () => {
  const curve = {
    metric: 'accuracy',
    durationMs: 1,
    key: 'k',
    points: [0.5, 1].map((f) => ({ fraction: f, trainSize: f * 100, trainError: 0.01, devError: 0.2 - f / 10 })),
  };
  const c = learningCurveChart(curve, 0.02, palette);
  const [train, dev, base] = c.data.datasets as {
    label: string;
    data: { x: number; y: number }[];
    borderDash: number[];
  }[];
  assert.deepEqual(
    dev.data.map((p) => p.x),
    [50, 100],
  );
  assert.deepEqual(
    dev.data.map((p) => Number(p.y.toFixed(9))),
    [15, 10],
  );
  assert.equal(train.label, 'train');
  assert.deepEqual(
    base.data.map((p) => p.x),
    [50, 100],
  );
  assert.deepEqual(
    base.data.map((p) => p.y),
    [2, 2],
  );
  assert.ok(base.borderDash.length > 0);
});

test('ROC curves carry the AUC in the legend plus a chance line; importance bars are horizontal', () => {
  const c = classCurvesChart([{ class: 'cat', x: [0, 0, 1], y: [0, 1, 1], area: 1 }], 'roc', palette);
  const labels = c.data.datasets.map((d) => d.label);
  assert.deepEqual(labels, ['cat (AUC 1.000)', 'chance']);
  const imp = importanceChart(
    {
      metric: 'accuracy',
      baseError: 0.1,
      repeats: 1,
      rows: 10,
      features: [
        { feature: 'a', importance: 0.2, std: 0 },
        { feature: 'b', importance: -0.01, std: 0 },
      ],
    },
    palette,
  );
  assert.equal((imp.options as { indexAxis: string }).indexAxis, 'y');
  assert.deepEqual(imp.data.datasets[0].data, [20, -1]);
});

test('confusion heat map is row-normalised', () => {
  const h = confusionHeatmap([
    [3, 1],
    [0, 0],
  ]);
  assert.deepEqual(
    h[0].map((c) => c.share),
    [0.75, 0.25],
  );
  assert.equal(h[0][0].correct, true);
  assert.deepEqual(
    h[1].map((c) => c.share),
    [0, 0],
  );
});

test('with many classes the curve legend moves to the right', () => {
  const curves = Array.from({ length: 10 }, (_, i) => ({ class: String(i), x: [0, 1], y: [0, 1], area: 0.5 }));
  const c = classCurvesChart(curves, 'pr', palette);
  assert.equal((c.options!.plugins!.legend as { position: string }).position, 'right');
  assert.equal(c.data.datasets.length, 10, 'no chance line on a PR chart');
});
