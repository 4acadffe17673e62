// Detailed metrics of one split from a model's predictions: per-class precision/recall/F1, the
// confusion matrix, ROC and precision-recall curves (binary, or one-vs-rest), a reliability curve;
// for regression the residuals and their distribution. Definitions follow scikit-learn, so the
// unit tests can compare against it on the same predictions. Accuracy, macro-F1, log loss, RMSE,
// MAE and R² come from the training metrics (src/core/train/metrics.ts), the same code that fills
// run.json, so the two never disagree.

import { classificationMetrics, regressionMetrics } from '../train/metrics';
import type { Prediction } from '../train/types';

export interface ClassScores {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  /** Rows of this class in the split. */
  support: number;
}

export interface Averages {
  precision: number;
  recall: number;
  f1: number;
}

/** A curve of one class against the rest: ROC (x = false-positive rate, y = true-positive rate) or
 *  precision-recall (x = recall, y = precision). `area` is the ROC AUC or the average precision;
 *  null when the split has no positive (or no negative) row of the class. */
export interface ClassCurve {
  class: string;
  x: number[];
  y: number[];
  area: number | null;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  /** Mean predicted probability of the rows in the bin. */
  meanPredicted: number;
  /** Fraction of those rows that are positive (binary) or correctly classified (multi-class). */
  observed: number;
  count: number;
}

export interface Calibration {
  /** Binary: probability of the positive class; multi-class: the confidence of the predicted class. */
  kind: 'positive-class' | 'top-class';
  bins: CalibrationBin[];
  /** Expected calibration error: Σ count/n · |observed − meanPredicted|. */
  ece: number;
}

export interface ClassificationSplitReport {
  task: 'classification';
  n: number;
  accuracy: number;
  error: number;
  /** Macro F1 over the classes present in the split's labels or predictions (as in run.json). */
  f1: number;
  logloss: number;
  perClass: ClassScores[];
  macro: Averages;
  weighted: Averages;
  /** confusion[true][predicted], class order of the schema. */
  confusion: number[][];
  roc: ClassCurve[];
  pr: ClassCurve[];
  /** Mean ROC AUC over the classes that have one (one-vs-rest; the single curve when binary). */
  rocAuc: number | null;
  calibration: Calibration;
}

export interface Histogram {
  edges: number[];
  counts: number[];
}

export interface RegressionSplitReport {
  task: 'regression';
  n: number;
  rmse: number;
  mae: number;
  r2: number;
  /** Residual = truth − prediction (scikit-learn's convention), for at most MAX_POINTS rows. */
  residuals: { prediction: number[]; residual: number[] };
  errorHistogram: Histogram;
}

export type SplitReport = ClassificationSplitReport | RegressionSplitReport;

/** Curves and scatter plots keep at most this many points (the areas use every row). */
export const MAX_POINTS = 400;

/** Keeps about `max` evenly spaced points, always the first and the last. */
export function thin<T>(xs: T[], max = MAX_POINTS): T[] {
  if (xs.length <= max) return xs;
  const out: T[] = [];
  const step = (xs.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(xs[Math.round(i * step)]);
  return out;
}

const safeDiv = (a: number, b: number) => (b > 0 ? a / b : 0);

/** Confusion matrix, confusion[true][predicted]. */
export function confusionMatrix(y: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < y.length; i++) m[y[i]][predicted[i]]++;
  return m;
}

/** Per-class scores and their macro and support-weighted averages (zero where a ratio is 0/0, as
 *  scikit-learn's zero_division default gives), over the classes present in labels or predictions. */
export function classScores(
  confusion: number[][],
  classNames: string[],
): { perClass: ClassScores[]; macro: Averages; weighted: Averages } {
  const C = confusion.length;
  const perClass: ClassScores[] = [];
  const macro = { precision: 0, recall: 0, f1: 0 };
  const weighted = { precision: 0, recall: 0, f1: 0 };
  let present = 0;
  let total = 0;
  for (let c = 0; c < C; c++) {
    const tp = confusion[c][c];
    let predicted = 0;
    let support = 0;
    for (let k = 0; k < C; k++) {
      predicted += confusion[k][c];
      support += confusion[c][k];
    }
    const precision = safeDiv(tp, predicted);
    const recall = safeDiv(tp, support);
    const f1 = safeDiv(2 * precision * recall, precision + recall);
    perClass.push({ class: classNames[c], precision, recall, f1, support });
    if (predicted > 0 || support > 0) {
      present++;
      macro.precision += precision;
      macro.recall += recall;
      macro.f1 += f1;
    }
    total += support;
    weighted.precision += precision * support;
    weighted.recall += recall * support;
    weighted.f1 += f1 * support;
  }
  for (const k of ['precision', 'recall', 'f1'] as const) {
    macro[k] = safeDiv(macro[k], present);
    weighted[k] = safeDiv(weighted[k], total);
  }
  return { perClass, macro, weighted };
}

/**
 * Cumulative true and false positives at each distinct score, highest first (scikit-learn's
 * _binary_clf_curve): the building block of the ROC and precision-recall curves.
 */
function thresholdCounts(positive: ArrayLike<boolean>, score: ArrayLike<number>): { tps: number[]; fps: number[] } {
  const order = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (positive[i]) tp++;
    else fp++;
    // Ties form one threshold: emit only after the last row of a run of equal scores.
    if (k === order.length - 1 || score[order[k + 1]] !== score[i]) {
      tps.push(tp);
      fps.push(fp);
    }
  }
  return { tps, fps };
}

/** ROC curve (from (0, 0)) and its area by the trapezoidal rule, as roc_curve + auc. */
export function rocCurve(
  positive: ArrayLike<boolean>,
  score: ArrayLike<number>,
): { fpr: number[]; tpr: number[]; auc: number | null } {
  const { tps, fps } = thresholdCounts(positive, score);
  const P = tps.length ? tps[tps.length - 1] : 0;
  const N = fps.length ? fps[fps.length - 1] : 0;
  const fpr = [0, ...fps.map((f) => safeDiv(f, N))];
  const tpr = [0, ...tps.map((t) => safeDiv(t, P))];
  if (P === 0 || N === 0) return { fpr, tpr, auc: null };
  let auc = 0;
  for (let i = 1; i < fpr.length; i++) auc += ((fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1])) / 2;
  return { fpr, tpr, auc };
}

/** Precision-recall curve (from recall 0, precision 1) and the average precision
 *  Σ (Rₖ − Rₖ₋₁)·Pₖ, as average_precision_score. */
export function prCurve(
  positive: ArrayLike<boolean>,
  score: ArrayLike<number>,
): { recall: number[]; precision: number[]; ap: number | null } {
  const { tps, fps } = thresholdCounts(positive, score);
  const P = tps.length ? tps[tps.length - 1] : 0;
  const recall = [0];
  const precision = [1];
  let ap = 0;
  for (let i = 0; i < tps.length; i++) {
    const r = safeDiv(tps[i], P);
    const p = safeDiv(tps[i], tps[i] + fps[i]);
    ap += (r - recall[recall.length - 1]) * p;
    recall.push(r);
    precision.push(p);
  }
  return { recall, precision, ap: P > 0 ? ap : null };
}

/** Reliability curve with `bins` uniform bins, as calibration_curve(strategy='uniform') (empty bins
 *  are left out); a probability on an inner edge falls in the lower bin. */
export function calibrationBins(
  outcome: ArrayLike<boolean>,
  prob: ArrayLike<number>,
  bins = 10,
): { bins: CalibrationBin[]; ece: number } {
  const sumP = new Float64Array(bins);
  const hits = new Float64Array(bins);
  const count = new Float64Array(bins);
  const width = 1 / bins;
  for (let i = 0; i < prob.length; i++) {
    let b = 0;
    while (b < bins - 1 && prob[i] > (b + 1) * width) b++;
    sumP[b] += prob[i];
    count[b]++;
    if (outcome[i]) hits[b]++;
  }
  const out: CalibrationBin[] = [];
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b] === 0) continue;
    const bin = {
      lower: b * width,
      upper: (b + 1) * width,
      meanPredicted: sumP[b] / count[b],
      observed: hits[b] / count[b],
      count: count[b],
    };
    ece += (count[b] / prob.length) * Math.abs(bin.observed - bin.meanPredicted);
    out.push(bin);
  }
  return { bins: out, ece };
}

export function classificationReport(
  y: Float64Array,
  pred: Prediction,
  classNames: string[],
): ClassificationSplitReport {
  const n = y.length;
  const C = classNames.length;
  const idx = pred.classIndex!;
  const probs = pred.probabilities!;
  const base = classificationMetrics(y, pred, C);
  const confusion = confusionMatrix(y, idx, C);
  const { perClass, macro, weighted } = classScores(confusion, classNames);
  // Binary: one curve, of the second class (scikit-learn's positive label); else one per class.
  const curveClasses = C === 2 ? [1] : Array.from({ length: C }, (_, c) => c);
  const roc: ClassCurve[] = [];
  const pr: ClassCurve[] = [];
  for (const c of curveClasses) {
    const positive = Array.from(y, (t) => t === c);
    const score = new Float64Array(n);
    for (let i = 0; i < n; i++) score[i] = probs[i * C + c];
    const r = rocCurve(positive, score);
    roc.push({ class: classNames[c], x: thin(r.fpr), y: thin(r.tpr), area: r.auc });
    const p = prCurve(positive, score);
    pr.push({ class: classNames[c], x: thin(p.recall), y: thin(p.precision), area: p.ap });
  }
  const aucs = roc.map((r) => r.area).filter((a): a is number => a !== null);
  let calibration: Calibration;
  if (C === 2) {
    const cal = calibrationBins(
      Array.from(y, (t) => t === 1),
      Float64Array.from({ length: n }, (_, i) => probs[i * 2 + 1]),
    );
    calibration = { kind: 'positive-class', ...cal };
  } else {
    const confidence = Float64Array.from({ length: n }, (_, i) => probs[i * C + idx[i]]);
    calibration = {
      kind: 'top-class',
      ...calibrationBins(
        Array.from(y, (t, i) => t === idx[i]),
        confidence,
      ),
    };
  }
  return {
    task: 'classification',
    n,
    accuracy: base.accuracy,
    error: 1 - base.accuracy,
    f1: base.f1,
    logloss: base.logloss,
    perClass,
    macro,
    weighted,
    confusion,
    roc,
    pr,
    rocAuc: aucs.length ? aucs.reduce((a, b) => a + b, 0) / aucs.length : null,
    calibration,
  };
}

/** Histogram with `bins` equal-width bins over [min, max] (the maximum falls in the last bin). */
export function histogram(values: ArrayLike<number>, bins = 20): Histogram {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  if (!(hi >= lo)) return { edges: [], counts: [] };
  if (hi === lo) return { edges: [lo, hi], counts: [values.length] };
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.floor((values[i] - lo) / width))]++;
  return { edges: Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * width)), counts };
}

export function regressionReport(y: Float64Array, pred: Prediction): RegressionSplitReport {
  const v = pred.values!;
  const base = regressionMetrics(y, pred);
  const residual = Array.from(y, (t, i) => t - v[i]);
  const rows = thin(Array.from({ length: y.length }, (_, i) => i));
  return {
    task: 'regression',
    n: y.length,
    ...base,
    residuals: { prediction: rows.map((i) => v[i]), residual: rows.map((i) => residual[i]) },
    errorHistogram: histogram(residual),
  };
}

export function splitReport(
  task: 'classification' | 'regression',
  y: Float64Array,
  pred: Prediction,
  classNames: string[] = [],
): SplitReport {
  return task === 'classification' ? classificationReport(y, pred, classNames) : regressionReport(y, pred);
}
