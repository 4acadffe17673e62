// `logistic`: L2-regularized logistic regression on the standardized features, binary (one weight
// vector, sigmoid) or multinomial (softmax over one weight vector per class), fitted by L-BFGS.
//
// Objective: mean cross-entropy + (l2 / 2)·||W||², intercepts unpenalized: scikit-learn's
// LogisticRegression(C = 1 / (l2 · n_train)) divided by n (sklearn 1.2's lbfgs minimizes
// Σ loss + ||W||² / (2·C)), so both have the same optimum. Stopping: max |gradient| ≤ tol or maxIter,
// on the gradient of the mean objective, so `tol` does not depend on n (sklearn applies its tol to the
// summed objective's gradient, n times larger, and so iterates longer for the same tol).

import type { FeatureSchema } from '../data/types';
import type { OnnxGraphBuilder } from '../onnx/builder';
import { appendClassifierOutputsFromLogits, argmaxRows } from './outputs';
import { assertFiniteDense, checkClassificationTarget, checkLoss, makeTrainedModel, numberParam, ProgressGate, type ModelCore } from './pipeline';
import { Preprocessor } from './preprocess';
import { TrainingError, type Prediction, type TrainContext, type TrainedModel } from './types';
import { minimizeLbfgs } from './optim/lbfgs';

export const LOGISTIC_DEFAULTS = { l2: 1e-3, maxIter: 100, tol: 1e-4 };

/** Softmax over C logits per row: z = X·W + b, W stored class-major (C × D). Binary models use C = 2 with class 0 fixed at 0. */
export class LogisticCore implements ModelCore {
  constructor(
    readonly weights: Float32Array,
    readonly bias: Float32Array,
    readonly classes: number,
  ) {}

  predictDense(X: Float32Array, n: number): Prediction {
    const C = this.classes;
    const D = this.weights.length / C;
    const probabilities = new Float32Array(n * C);
    const z = new Float64Array(C);
    // Float64 copies keep softmaxNumerators monomorphic (the fit calls it with Float64Array too).
    const W = Float64Array.from(this.weights);
    const B = Float64Array.from(this.bias);
    for (let i = 0; i < n; i++) {
      const sum = softmaxNumerators(X, i * D, D, W, B, 0, C, z);
      for (let c = 0; c < C; c++) probabilities[i * C + c] = z[c] / sum;
    }
    return { probabilities, classIndex: argmaxRows(probabilities, n, C) };
  }

  appendOnnx(b: OnnxGraphBuilder, dense: string, schema: FeatureSchema): void {
    const C = this.classes;
    const D = this.weights.length / C;
    // ONNX MatMul wants W as D × C.
    const wt = new Float32Array(D * C);
    for (let c = 0; c < C; c++) for (let j = 0; j < D; j++) wt[j * C + c] = this.weights[c * D + j];
    const W = b.addInitializer('logistic_W', wt, [D, C]);
    const B = b.addInitializer('logistic_b', this.bias, [C]);
    const [mm] = b.addNode('MatMul', [dense, W]);
    const [logits] = b.addNode('Add', [mm, B]);
    appendClassifierOutputsFromLogits(b, logits, schema.classes ?? []);
  }
}

/**
 * Writes exp(z_c − max z) into z for the logits z_c = b[bOff + c] + X[row..row+D)·W[c·D..], and
 * returns their sum (the softmax denominator).
 */
function softmaxNumerators(X: Float32Array, row: number, D: number, W: Float64Array, B: Float64Array, bOff: number, K: number, z: Float64Array): number {
  let max = -Infinity;
  for (let c = 0; c < K; c++) {
    let s = B[bOff + c];
    const w = c * D;
    for (let j = 0; j < D; j++) s += X[row + j] * W[w + j];
    z[c] = s;
    if (s > max) max = s;
  }
  return expShifted(z, K, max);
}

/** Replaces z[c] by exp(z[c] − max z) for c < K and returns their sum. */
function expShifted(z: Float64Array, K: number, max = maxOf(z, K)): number {
  let sum = 0;
  for (let c = 0; c < K; c++) {
    z[c] = Math.exp(z[c] - max);
    sum += z[c];
  }
  return sum;
}

function maxOf(z: Float64Array, K: number): number {
  let m = -Infinity;
  for (let c = 0; c < K; c++) if (z[c] > m) m = z[c];
  return m;
}

/** log(1 + e^s) − y·s (the binary cross-entropy of logit s), computed stably. */
function binaryLoss(s: number, y: number): number {
  return (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s))) - y * s;
}

export interface LogisticFit {
  /** C × D (class-major); binary: one row. */
  weights: Float64Array;
  bias: Float64Array;
  iterations: number;
  /** Objective evaluations (each a pass over the data). */
  evaluations: number;
  converged: boolean;
  loss: number;
}

/**
 * Fits the weights on dense rows. Binary (C = 2) uses one weight vector for class 1.
 * Exposed for tests and for reuse (e.g. calibration) without preprocessing.
 */
export function fitLogistic(
  X: Float32Array,
  n: number,
  D: number,
  y: Float64Array,
  C: number,
  opts: { l2: number; maxIter: number; tol: number },
  onIteration?: (iteration: number, loss: number, theta: Float64Array) => void,
  /** Called before every pass over the data; throws to stop (cancellation). */
  checkCancelled?: () => void,
): LogisticFit {
  const K = C === 2 ? 1 : C;
  const P = K * D + K;
  const l2 = opts.l2;
  const invN = 1 / n;
  const zA = new Float64Array(K);
  const zB = new Float64Array(K);

  // Rows are processed in pairs (a, b) so each weight read serves two rows (~30% faster); with an odd
  // n the last pair is row a twice with b's residual set to 0.
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    checkCancelled?.();
    grad.fill(0);
    let loss = 0;
    const bOff = K * D;
    for (let i = 0; i < n; i += 2) {
      const a = i * D;
      const pair = i + 1 < n;
      const b = pair ? a + D : a;
      const ya = y[i];
      const yb = pair ? y[i + 1] : 0;
      if (K === 1) {
        let sa = theta[D];
        let sb = sa;
        for (let j = 0; j < D; j++) {
          const w = theta[j];
          sa += X[a + j] * w;
          sb += X[b + j] * w;
        }
        loss += binaryLoss(sa, ya);
        const ra = 1 / (1 + Math.exp(-sa)) - ya;
        let rb = 0;
        if (pair) {
          loss += binaryLoss(sb, yb);
          rb = 1 / (1 + Math.exp(-sb)) - yb;
        }
        grad[D] += ra + rb;
        for (let j = 0; j < D; j++) grad[j] += ra * X[a + j] + rb * X[b + j];
      } else {
        for (let c = 0; c < K; c++) {
          let sa = theta[bOff + c];
          let sb = sa;
          const w = c * D;
          for (let j = 0; j < D; j++) {
            const wj = theta[w + j];
            sa += X[a + j] * wj;
            sb += X[b + j] * wj;
          }
          zA[c] = sa;
          zB[c] = sb;
        }
        const sumA = expShifted(zA, K);
        const sumB = expShifted(zB, K);
        loss += Math.log(sumA) - Math.log(zA[ya]);
        if (pair) loss += Math.log(sumB) - Math.log(zB[yb]);
        for (let c = 0; c < K; c++) {
          const ra = zA[c] / sumA - (c === ya ? 1 : 0);
          const rb = pair ? zB[c] / sumB - (c === yb ? 1 : 0) : 0;
          grad[bOff + c] += ra + rb;
          const w = c * D;
          for (let j = 0; j < D; j++) grad[w + j] += ra * X[a + j] + rb * X[b + j];
        }
      }
    }
    let pen = 0;
    for (let p = 0; p < K * D; p++) {
      pen += theta[p] * theta[p];
      grad[p] = grad[p] * invN + l2 * theta[p];
    }
    for (let p = K * D; p < P; p++) grad[p] *= invN;
    return loss * invN + 0.5 * l2 * pen;
  };

  const res = minimizeLbfgs(objective, new Float64Array(P), {
    maxIter: opts.maxIter,
    tol: opts.tol,
    onIteration: (it, f, _g, theta) => {
      checkLoss(f, it, 'iteration');
      onIteration?.(it, f, theta);
    },
  });
  checkLoss(res.f, res.iterations, 'iteration');
  return { weights: res.x.slice(0, K * D), bias: res.x.slice(K * D), iterations: res.iterations, evaluations: res.evaluations, converged: res.converged, loss: res.f };
}

/** Dev log loss and accuracy of the parameters `theta` (fitLogistic's layout). */
function devScores(X: Float32Array, n: number, D: number, y: Float64Array, C: number, theta: Float64Array): { devLoss: number; devMetric: number; metricName: string } {
  const K = C === 2 ? 1 : C;
  const z = new Float64Array(C);
  // Binary: logits [0, z1] with class 1's weights, as the exported model does.
  const W = K === 1 ? new Float64Array(2 * D) : theta;
  const B = K === 1 ? Float64Array.of(0, theta[D]) : theta.subarray(K * D);
  if (K === 1) W.set(theta.subarray(0, D), D);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const sum = softmaxNumerators(X, i * D, D, W, B, 0, C, z);
    let best = 0;
    for (let c = 1; c < C; c++) if (z[c] > z[best]) best = c;
    if (best === y[i]) correct++;
    loss -= Math.log(Math.max(z[y[i]] / sum, 1e-15));
  }
  return { devLoss: loss / n, devMetric: correct / n, metricName: 'accuracy' };
}

export function trainLogistic(ctx: TrainContext): TrainedModel {
  if (ctx.schema.task !== 'classification') throw new TrainingError('The logistic model is for classification; use linear for regression', 'model');
  const l2 = numberParam(ctx.params, 'l2', LOGISTIC_DEFAULTS.l2, { min: 0 });
  const maxIter = numberParam(ctx.params, 'maxIter', LOGISTIC_DEFAULTS.maxIter, { min: 1, integer: true });
  const tol = numberParam(ctx.params, 'tol', LOGISTIC_DEFAULTS.tol, { above: 0 });
  const C = checkClassificationTarget(ctx);
  const gate = new ProgressGate(ctx);
  const pre = Preprocessor.fit(ctx.schema, ctx.train.features, { standardize: true, impute: true });
  const n = ctx.train.features.n;
  const X = pre.transform(ctx.train.features);
  assertFiniteDense(X, n, pre);
  const D = pre.outputDim;
  gate.checkCancelled();
  // Dev loss and accuracy go with each progress event (only computed when someone listens).
  const devN = ctx.onProgress ? ctx.dev.features.n : 0;
  const devX = devN > 0 ? pre.transform(ctx.dev.features) : new Float32Array(0);
  const fit = fitLogistic(X, n, D, ctx.train.y, C, { l2, maxIter, tol }, (it, loss, theta) =>
    gate.report({ step: it, totalSteps: maxIter, trainLoss: loss, ...(devN > 0 ? devScores(devX, devN, D, ctx.dev.y, C, theta) : {}) }),
    () => gate.checkCancelled(),
  );
  gate.report({ step: fit.iterations, totalSteps: fit.iterations, trainLoss: fit.loss }, true);
  let weights: Float32Array;
  let bias: Float32Array;
  if (C === 2) {
    // Class 0's logit fixed at 0: softmax([0, z]) = [1 − σ(z), σ(z)].
    weights = new Float32Array(2 * D);
    weights.set(fit.weights, D);
    bias = new Float32Array([0, fit.bias[0]]);
  } else {
    weights = Float32Array.from(fit.weights);
    bias = Float32Array.from(fit.bias);
  }
  return makeTrainedModel('logistic', ctx.schema, pre, new LogisticCore(weights, bias, C));
}
