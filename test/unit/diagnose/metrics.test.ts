// Every metric of a split report pinned against values computed independently: by hand on tiny
// cases, and by Debian's scikit-learn on the same predictions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mulberry32 } from '../../../src/core/data/prng';
import {
  calibrationBins,
  classificationReport,
  classScores,
  confusionMatrix,
  histogram,
  prCurve,
  regressionReport,
  rocCurve,
  thin,
} from '../../../src/core/diagnose/metrics';

const close = (a: number, b: number, tol = 1e-9, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('confusion matrix and per-class scores of a hand-checked 3-class case', () => {
  // truth:     0 0 0 1 1 2 2 2 2
  // predicted: 0 0 1 1 2 2 2 2 0
  const y = [0, 0, 0, 1, 1, 2, 2, 2, 2];
  const p = [0, 0, 1, 1, 2, 2, 2, 2, 0];
  const m = confusionMatrix(y, p, 3);
  assert.deepEqual(m, [
    [2, 1, 0],
    [0, 1, 1],
    [1, 0, 3],
  ]);
  const { perClass, macro, weighted } = classScores(m, ['a', 'b', 'c']);
  // class a: tp 2, predicted 3, support 3 → P = R = 2/3; b: tp 1, predicted 2, support 2 → ½, ½;
  // c: tp 3, predicted 4, support 4 → ¾, ¾.
  assert.deepEqual(
    perClass.map((c) => [c.class, c.support]),
    [
      ['a', 3],
      ['b', 2],
      ['c', 4],
    ],
  );
  close(perClass[0].precision, 2 / 3);
  close(perClass[1].recall, 1 / 2);
  close(perClass[2].f1, 3 / 4);
  close(macro.f1, (2 / 3 + 1 / 2 + 3 / 4) / 3);
  close(weighted.recall, (3 * (2 / 3) + 2 * (1 / 2) + 4 * (3 / 4)) / 9);
});

test('a class never predicted and never present is left out of the macro average; never predicted scores 0', () => {
  const m = confusionMatrix([0, 0, 1], [0, 0, 0], 3);
  const { perClass, macro } = classScores(m, ['a', 'b', 'c']);
  assert.equal(perClass[1].precision, 0);
  assert.equal(perClass[1].f1, 0);
  // a: P 2/3, R 1, F1 0.8; b: 0; c absent → macro over 2 classes.
  close(macro.f1, 0.8 / 2);
});

test('ROC AUC of known rankings: perfect, reversed, and one swapped pair out of 2×2', () => {
  assert.equal(rocCurve([true, true, false, false], [0.9, 0.8, 0.3, 0.1]).auc, 1);
  assert.equal(rocCurve([true, true, false, false], [0.1, 0.2, 0.8, 0.9]).auc, 0);
  // Positives 0.9 and 0.4, negatives 0.6 and 0.1: 3 of the 4 pairs are ordered right.
  const r = rocCurve([true, false, true, false], [0.9, 0.6, 0.4, 0.1]);
  assert.equal(r.auc, 0.75);
  assert.deepEqual(r.fpr, [0, 0, 0.5, 0.5, 1]);
  assert.deepEqual(r.tpr, [0, 0.5, 0.5, 1, 1]);
  // Tied scores form one threshold: a positive and a negative tied count half.
  assert.equal(rocCurve([true, false], [0.5, 0.5]).auc, 0.5);
  assert.equal(rocCurve([true, true], [0.5, 0.7]).auc, null);
});

test('average precision of a known ranking', () => {
  // Ranking P N P N: precision at the two positives 1 and 2/3 → AP = ½·1 + ½·⅔.
  const r = prCurve([true, false, true, false], [0.9, 0.6, 0.4, 0.1]);
  close(r.ap!, 0.5 + (0.5 * 2) / 3);
  assert.deepEqual(r.recall, [0, 0.5, 0.5, 1, 1]);
});

test('calibration bins by hand: an edge value falls in the lower bin', () => {
  const { bins, ece } = calibrationBins([true, false, true, true], [0.05, 0.1, 0.95, 0.85], 10);
  assert.deepEqual(
    bins.map((b) => [b.lower, b.count]),
    [
      [0, 2],
      [0.8, 1],
      [0.9, 1],
    ],
  );
  close(bins[0].meanPredicted, 0.075);
  close(bins[0].observed, 0.5);
  close(ece, (2 / 4) * Math.abs(0.5 - 0.075) + (1 / 4) * Math.abs(1 - 0.85) + (1 / 4) * Math.abs(1 - 0.95));
});

test('R² of a known fit, RMSE and MAE, residuals as truth − prediction', () => {
  const y = Float64Array.from([1, 2, 3, 4]);
  const values = Float32Array.from([1.5, 2, 2.5, 4]);
  const r = regressionReport(y, { values });
  // SSE = 0.25 + 0 + 0.25 + 0 = 0.5; SST = 5 → R² = 0.9.
  close(r.r2, 0.9, 1e-7);
  close(r.rmse, Math.sqrt(0.5 / 4), 1e-7);
  close(r.mae, 0.25, 1e-7);
  assert.deepEqual(r.residuals.residual, [-0.5, 0, 0.5, 0]);
  assert.equal(
    r.errorHistogram.counts.reduce((a, b) => a + b, 0),
    4,
  );
});

test('histogram puts the maximum in the last bin; thin keeps the ends', () => {
  assert.deepEqual(histogram([0, 1, 2, 3, 4], 2), { edges: [0, 2, 4], counts: [2, 3] });
  const t = thin(
    Array.from({ length: 1000 }, (_, i) => i),
    10,
  );
  assert.equal(t.length, 10);
  assert.equal(t[0], 0);
  assert.equal(t[9], 999);
});

/** Random but realistic predictions: probabilities leaning toward the true class. */
function fakePredictions(n: number, C: number, seed: number) {
  const rand = mulberry32(seed);
  const y = new Float64Array(n);
  const probabilities = new Float32Array(n * C);
  const classIndex = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = Math.floor(rand() * C);
    let s = 0;
    for (let c = 0; c < C; c++) {
      const v = rand() + (c === y[i] ? 1.2 * rand() : 0);
      probabilities[i * C + c] = v;
      s += v;
    }
    let best = 0;
    for (let c = 0; c < C; c++) {
      probabilities[i * C + c] /= s;
      if (probabilities[i * C + c] > probabilities[i * C + best]) best = c;
    }
    classIndex[i] = best;
  }
  return { y, probabilities, classIndex };
}

const SKLEARN = `
import json, sys
import numpy as np
from sklearn import metrics
from sklearn.calibration import calibration_curve
d = json.load(sys.stdin)
out = []
for case in d['classification']:
    y = np.array(case['y'], dtype=int); p = np.array(case['p'], dtype=np.float64).reshape(len(y), -1); yp = np.array(case['pred'], dtype=int)
    C = p.shape[1]
    pr, rc, f1, sup = metrics.precision_recall_fscore_support(y, yp, labels=list(range(C)), zero_division=0)
    r = dict(accuracy=metrics.accuracy_score(y, yp), logloss=metrics.log_loss(y, p, labels=list(range(C))),
             confusion=metrics.confusion_matrix(y, yp, labels=list(range(C))).tolist(),
             precision=pr.tolist(), recall=rc.tolist(), f1=f1.tolist(), support=sup.tolist(),
             macro_f1=metrics.f1_score(y, yp, average='macro', zero_division=0),
             weighted_f1=metrics.f1_score(y, yp, average='weighted', zero_division=0),
             weighted_precision=metrics.precision_score(y, yp, average='weighted', zero_division=0))
    if C == 2:
        r['auc'] = [metrics.roc_auc_score(y, p[:, 1])]
        r['ap'] = [metrics.average_precision_score(y, p[:, 1])]
        t, q = calibration_curve(y, p[:, 1], n_bins=10)
        r['cal'] = [t.tolist(), q.tolist()]
    else:
        r['auc'] = [metrics.roc_auc_score((y == c).astype(int), p[:, c]) for c in range(C)]
        r['ap'] = [metrics.average_precision_score((y == c).astype(int), p[:, c]) for c in range(C)]
        r['auc_ovr_macro'] = metrics.roc_auc_score(y, p, multi_class='ovr', average='macro')
    out.append(r)
reg = d['regression']
y = np.array(reg['y']); v = np.array(reg['v'])
print(json.dumps(dict(classification=out, regression=dict(rmse=float(np.sqrt(metrics.mean_squared_error(y, v))), mae=metrics.mean_absolute_error(y, v), r2=metrics.r2_score(y, v)))))
`;

test('matches scikit-learn on the same predictions (binary, 4 classes, regression)', (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import sklearn'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip('Debian scikit-learn is not installed');
  const cases = [fakePredictions(400, 2, 1), fakePredictions(500, 4, 2)];
  const rand = mulberry32(3);
  const yr = Float64Array.from({ length: 300 }, () => rand() * 10);
  const vr = Float32Array.from(yr, (v) => v + (rand() - 0.5) * 3);
  const input = {
    classification: cases.map((c) => ({
      y: Array.from(c.y),
      p: Array.from(c.probabilities),
      pred: Array.from(c.classIndex),
    })),
    regression: { y: Array.from(yr), v: Array.from(vr) },
  };
  const r = spawnSync('/usr/bin/python3', ['-c', SKLEARN], { input: JSON.stringify(input), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const sk = JSON.parse(r.stdout);
  cases.forEach((c, k) => {
    const C = k === 0 ? 2 : 4;
    const names = Array.from({ length: C }, (_, i) => `c${i}`);
    const mine = classificationReport(c.y, { classIndex: c.classIndex, probabilities: c.probabilities }, names);
    const s = sk.classification[k];
    close(mine.accuracy, s.accuracy, 1e-12, 'accuracy');
    close(mine.logloss, s.logloss, 1e-6, 'log loss');
    assert.deepEqual(mine.confusion, s.confusion);
    mine.perClass.forEach((pc, i) => {
      close(pc.precision, s.precision[i], 1e-12, `precision ${i}`);
      close(pc.recall, s.recall[i], 1e-12, `recall ${i}`);
      close(pc.f1, s.f1[i], 1e-12, `f1 ${i}`);
      assert.equal(pc.support, s.support[i]);
    });
    close(mine.macro.f1, s.macro_f1, 1e-12, 'macro f1');
    close(mine.weighted.f1, s.weighted_f1, 1e-12, 'weighted f1');
    close(mine.weighted.precision, s.weighted_precision, 1e-12, 'weighted precision');
    mine.roc.forEach((curve, i) => close(curve.area!, s.auc[i], 1e-9, `auc ${i}`));
    mine.pr.forEach((curve, i) => close(curve.area!, s.ap[i], 1e-9, `ap ${i}`));
    if (C === 2) {
      assert.deepEqual(
        mine.calibration.bins.map((b) => Number(b.observed.toFixed(12))),
        s.cal[0].map((v: number) => Number(v.toFixed(12))),
      );
      mine.calibration.bins.forEach((b, i) => close(b.meanPredicted, s.cal[1][i], 1e-6, `calibration bin ${i}`));
    } else {
      close(mine.rocAuc!, s.auc_ovr_macro, 1e-9, 'ovr macro auc');
    }
  });
  const reg = regressionReport(yr, { values: vr });
  close(reg.rmse, sk.regression.rmse, 1e-9, 'rmse');
  close(reg.mae, sk.regression.mae, 1e-9, 'mae');
  close(reg.r2, sk.regression.r2, 1e-9, 'r2');
});
