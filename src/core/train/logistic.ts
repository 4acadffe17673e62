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
import { argmaxRows } from '../onnx/argmax';
import { appendClassifierOutputsFromLogits } from './outputs';
import {
  assertFiniteDense,
  checkClassificationTarget,
  checkLoss,
  makeTrainedModel,
  numberParam,
  ProgressGate,
  type ModelCore,
} from './pipeline';
import { Preprocessor } from './preprocess';
import { TrainingError, type Prediction, type TrainContext, type TrainedModel } from './types';
import { minimizeLbfgs } from './optim/lbfgs';
import { LogisticPassKernel, type ResidualsFn } from './kernels/logisticPass';

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
function softmaxNumerators(
  X: Float32Array,
  row: number,
  D: number,
  W: Float64Array,
  B: Float64Array,
  bOff: number,
  K: number,
  z: Float64Array,
): number {
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
  opts: {
    l2: number;
    maxIter: number;
    tol: number;
    /** The data pass: WebAssembly SIMD where available (default), or plain JavaScript. */ pass?: 'wasm' | 'js';
  },
  onIteration?: (iteration: number, loss: number, theta: Float64Array) => void,
  /** Called before every pass over the data; throws to stop (cancellation). */
  checkCancelled?: () => void,
): LogisticFit {
  const K = C === 2 ? 1 : C;
  const P = K * D + K;
  const l2 = opts.l2;
  const invN = 1 / n;
  const bOff = K * D;
  // The products on WebAssembly SIMD where available (null: the JavaScript dataPass).
  const kernel = opts.pass === 'js' ? null : LogisticPassKernel.create(X, n, D, K);
  // The kernel's residual step: softmax / sigmoid in JavaScript, intercept gradients into the current grad.
  let gradBuf: Float64Array = new Float64Array(0);
  const residuals: ResidualsFn = (Z, zOff, row0, rows) => toResiduals(Z, zOff, rows, K, y, row0, gradBuf, bOff);
  // Logits / residuals of one block of four rows (see dataPass): allocated once for the whole fit.
  const Z = new Float64Array(4 * K);
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    checkCancelled?.();
    grad.fill(0);
    gradBuf = grad;
    const loss = kernel ? kernel.pass(theta, grad, residuals) : dataPass(X, n, D, y, K, theta, grad, Z);
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
  return {
    weights: res.x.slice(0, K * D),
    bias: res.x.slice(K * D),
    iterations: res.iterations,
    evaluations: res.evaluations,
    converged: res.converged,
    loss: res.f,
  };
}

/**
 * The data pass of the objective in plain JavaScript (where WebAssembly SIMD is missing; the kernel in
 * ./kernels/logisticPass.ts does the products otherwise): the summed cross-entropy of every row,
 * returned, and its gradient added to grad. K = 1 (binary: the logit of class 1, sigmoid) or the number of classes (softmax);
 * theta holds the weights class-major, then the K intercepts. Rows go in blocks of four so that each
 * weight read serves four rows, in the product X·W and in the gradient Rᵀ·X alike (measured about
 * 1.6× faster on digits than the pairs of rows before); a last, partial block repeats its first row
 * with a residual of 0. Z holds 4 × K values: the block's logits, then its residuals.
 */
function dataPass(
  X: Float32Array,
  n: number,
  D: number,
  y: Float64Array,
  K: number,
  theta: Float64Array,
  grad: Float64Array,
  Z: Float64Array,
): number {
  const bOff = K * D;
  let loss = 0;
  for (let i = 0; i < n; i += 4) {
    const count = Math.min(4, n - i);
    const a0 = i * D;
    const a1 = count > 1 ? a0 + D : a0;
    const a2 = count > 2 ? a0 + 2 * D : a0;
    const a3 = count > 3 ? a0 + 3 * D : a0;
    for (let c = 0; c < K; c++) {
      let s0 = theta[bOff + c];
      let s1 = s0;
      let s2 = s0;
      let s3 = s0;
      const w = c * D;
      for (let j = 0; j < D; j++) {
        const wj = theta[w + j];
        s0 += X[a0 + j] * wj;
        s1 += X[a1 + j] * wj;
        s2 += X[a2 + j] * wj;
        s3 += X[a3 + j] * wj;
      }
      Z[c] = s0;
      Z[K + c] = s1;
      Z[2 * K + c] = s2;
      Z[3 * K + c] = s3;
    }
    // Each row's residuals in place of its logits (zero for the padding rows).
    loss += toResiduals(Z, 0, count, K, y, i, grad, bOff);
    Z.fill(0, count * K, 4 * K);
    for (let c = 0; c < K; c++) {
      const r0 = Z[c];
      const r1 = Z[K + c];
      const r2 = Z[2 * K + c];
      const r3 = Z[3 * K + c];
      const w = c * D;
      for (let j = 0; j < D; j++) grad[w + j] += r0 * X[a0 + j] + r1 * X[a1 + j] + r2 * X[a2 + j] + r3 * X[a3 + j];
    }
  }
  return loss;
}

/**
 * Replaces the logits of `rows` rows (K per row, from Z[zOff], the first being data row `row0`) by
 * the residuals ∂loss/∂logit — σ(z) − y (K = 1) or softmax(z) − onehot(y) — adds them to the
 * intercepts' gradient grad[bOff + c], and returns the rows' summed cross-entropy.
 */
function toResiduals(
  Z: Float64Array,
  zOff: number,
  rows: number,
  K: number,
  y: Float64Array,
  row0: number,
  grad: Float64Array,
  bOff: number,
): number {
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const o = zOff + r * K;
    const yi = y[row0 + r];
    if (K === 1) {
      // One exponential serves both: with e = e^−|z|, log(1 + e^z) = max(z, 0) + log1p(e) (the binary
      // cross-entropy is that − y·z) and σ(z) = 1 / (1 + e) for z ≥ 0, e / (1 + e) otherwise.
      const z = Z[o];
      const e = Math.exp(-Math.abs(z));
      loss += (z > 0 ? z + Math.log1p(e) : Math.log1p(e)) - yi * z;
      const res = (z >= 0 ? 1 : e) / (1 + e) - yi;
      Z[o] = res;
      grad[bOff] += res;
      continue;
    }
    let max = -Infinity;
    for (let c = 0; c < K; c++) if (Z[o + c] > max) max = Z[o + c];
    const zy = Z[o + yi];
    let sum = 0;
    for (let c = 0; c < K; c++) {
      const e = Math.exp(Z[o + c] - max);
      Z[o + c] = e;
      sum += e;
    }
    // −log softmax_y = log Σ e^(z − max) − (z_y − max).
    loss += Math.log(sum) - (zy - max);
    const inv = 1 / sum;
    for (let c = 0; c < K; c++) {
      const res = Z[o + c] * inv - (c === yi ? 1 : 0);
      Z[o + c] = res;
      grad[bOff + c] += res;
    }
  }
  return loss;
}

/** Dev log loss and accuracy of the parameters `theta` (fitLogistic's layout). */
function devScores(
  X: Float32Array,
  n: number,
  D: number,
  y: Float64Array,
  C: number,
  theta: Float64Array,
): { devLoss: number; devMetric: number; metricName: string } {
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
  if (ctx.schema.task !== 'classification')
    throw new TrainingError('The logistic model is for classification; use linear for regression', 'model');
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
  const fit = fitLogistic(
    X,
    n,
    D,
    ctx.train.y,
    C,
    { l2, maxIter, tol },
    (it, loss, theta) =>
      gate.report({
        step: it,
        totalSteps: maxIter,
        trainLoss: loss,
        ...(devN > 0 ? devScores(devX, devN, D, ctx.dev.y, C, theta) : {}),
      }),
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
