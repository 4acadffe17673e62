// `linear`: ridge regression, minimizing ||y - Xw - b||² + l2·||w||² on the standardized features,
// with an unpenalized intercept (scikit-learn's Ridge(alpha=l2) objective). Solved in closed form:
// centre X and y, then Cholesky-solve (XcᵀXc + l2·I) w = Xcᵀyc; b = ȳ - x̄·w.

import type { FeatureSchema } from '../data/types';
import type { OnnxGraphBuilder } from '../onnx/builder';
import { appendRegressionOutput } from './outputs';
import {
  assertFiniteDense,
  checkRegressionTarget,
  makeTrainedModel,
  numberParam,
  ProgressGate,
  type ModelCore,
} from './pipeline';
import { Preprocessor } from './preprocess';
import { TrainingError, type Prediction, type TrainContext, type TrainedModel } from './types';
import { choleskySolve } from './optim/cholesky';

export const LINEAR_DEFAULTS = { l2: 1 };

export class LinearCore implements ModelCore {
  constructor(
    /** D weights (float32: what the ONNX model stores). */
    readonly weights: Float32Array,
    readonly bias: number,
  ) {}

  predictDense(X: Float32Array, n: number): Prediction {
    const D = this.weights.length;
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * D;
      for (let j = 0; j < D; j++) s += X[row + j] * this.weights[j];
      values[i] = s + this.bias;
    }
    return { values };
  }

  appendOnnx(b: OnnxGraphBuilder, dense: string, _schema: FeatureSchema): void {
    const D = this.weights.length;
    const W = b.addInitializer('linear_W', this.weights, [D, 1]);
    const B = b.addInitializer('linear_b', new Float32Array([this.bias]), [1]);
    const [mm] = b.addNode('MatMul', [dense, W]);
    const [out] = b.addNode('Add', [mm, B]);
    appendRegressionOutput(b, out);
  }
}

export function trainLinear(ctx: TrainContext): TrainedModel {
  if (ctx.schema.task !== 'regression')
    throw new TrainingError('The linear model is for regression; use logistic for classification', 'model');
  const l2 = numberParam(ctx.params, 'l2', LINEAR_DEFAULTS.l2, { min: 0 });
  checkRegressionTarget(ctx);
  const gate = new ProgressGate(ctx);
  const pre = Preprocessor.fit(ctx.schema, ctx.train.features, { standardize: true, impute: true });
  const n = ctx.train.features.n;
  if (n === 0) throw new TrainingError('The train split is empty', 'data');
  const X = pre.transform(ctx.train.features);
  assertFiniteDense(X, n, pre);
  const D = pre.outputDim;
  const y = ctx.train.y;

  const xMean = new Float64Array(D);
  let yMean = 0;
  for (let i = 0; i < n; i++) {
    const row = i * D;
    for (let j = 0; j < D; j++) xMean[j] += X[row + j];
    yMean += y[i];
  }
  for (let j = 0; j < D; j++) xMean[j] /= n;
  yMean /= n;

  // Upper triangle of XcᵀXc, accumulated row by row; cancellation checked every 4096 rows.
  const A = new Float64Array(D * D);
  const rhs = new Float64Array(D);
  const xc = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    if ((i & 4095) === 0) gate.checkCancelled();
    const row = i * D;
    for (let j = 0; j < D; j++) xc[j] = X[row + j] - xMean[j];
    const yc = y[i] - yMean;
    for (let j = 0; j < D; j++) {
      const v = xc[j];
      if (v === 0) continue;
      rhs[j] += v * yc;
      const aRow = j * D;
      for (let k = j; k < D; k++) A[aRow + k] += v * xc[k];
    }
  }
  for (let j = 0; j < D; j++) {
    for (let k = 0; k < j; k++) A[j * D + k] = A[k * D + j];
    // A tiny jitter keeps the system positive definite when l2 = 0 and columns are collinear.
    A[j * D + j] += l2 > 0 ? l2 : 1e-10 * (A[j * D + j] + 1);
  }
  const w = choleskySolve(A, rhs, D);
  let bias = yMean;
  for (let j = 0; j < D; j++) bias -= xMean[j] * w[j];
  if (!Number.isFinite(bias) || w.some((v) => !Number.isFinite(v)))
    throw new TrainingError('Ridge solve produced non-finite weights; increase l2', 'l2');
  gate.report({ step: 1, totalSteps: 1 });
  return makeTrainedModel('linear', ctx.schema, pre, new LinearCore(Float32Array.from(w), Math.fround(bias)));
}
