// Evaluation metrics of a split: accuracy, macro-F1 and log loss for classification; RMSE, MAE and
// R² for regression. Definitions follow scikit-learn (f1_score(average='macro') counts a class with
// no predicted and no true rows as 0; log_loss clips probabilities to [1e-15, 1 − 1e-15]).

import type { Task } from '../spec/types';
import type { Prediction } from './types';

// Type aliases (not interfaces) so that they are assignable to Record<string, number>.
export type ClassificationMetrics = {
  accuracy: number;
  f1: number;
  logloss: number;
};
export type RegressionMetrics = {
  rmse: number;
  mae: number;
  r2: number;
};
export type SplitMetrics = ClassificationMetrics | RegressionMetrics;

export function classificationMetrics(y: Float64Array, pred: Prediction, classes: number): ClassificationMetrics {
  const n = y.length;
  const idx = pred.classIndex!;
  const probs = pred.probabilities!;
  const tp = new Float64Array(classes);
  const predicted = new Float64Array(classes);
  const actual = new Float64Array(classes);
  let correct = 0;
  let logloss = 0;
  const eps = 1e-15;
  for (let i = 0; i < n; i++) {
    const t = y[i];
    const p = idx[i];
    predicted[p]++;
    actual[t]++;
    if (p === t) {
      correct++;
      tp[t]++;
    }
    // Renormalize the row as sklearn does, then clip.
    let s = 0;
    for (let c = 0; c < classes; c++) s += probs[i * classes + c];
    const pt = Math.min(1 - eps, Math.max(eps, probs[i * classes + t] / s));
    logloss -= Math.log(pt);
  }
  let f1 = 0;
  let present = 0;
  for (let c = 0; c < classes; c++) {
    // sklearn averages over the labels present in y_true or y_pred.
    if (actual[c] === 0 && predicted[c] === 0) continue;
    present++;
    const denom = predicted[c] + actual[c];
    f1 += denom > 0 ? (2 * tp[c]) / denom : 0;
  }
  return { accuracy: n ? correct / n : NaN, f1: present ? f1 / present : NaN, logloss: n ? logloss / n : NaN };
}

export function regressionMetrics(y: Float64Array, pred: Prediction): RegressionMetrics {
  const n = y.length;
  const v = pred.values!;
  let se = 0;
  let ae = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = v[i] - y[i];
    se += d * d;
    ae += Math.abs(d);
    ss += (y[i] - mean) * (y[i] - mean);
  }
  return { rmse: Math.sqrt(se / n), mae: ae / n, r2: ss > 0 ? 1 - se / ss : NaN };
}

export function splitMetrics(task: Task, y: Float64Array, pred: Prediction, classes: number): SplitMetrics {
  return task === 'classification' ? classificationMetrics(y, pred, classes) : regressionMetrics(y, pred);
}
