// The `mlp` model: a multi-layer perceptron for classification (softmax cross-entropy) and
// regression (squared error on the standardized target), trained by minibatch Adam or SGD with
// momentum on inputs standardized by the Preprocessor. The numeric work runs on the kernels in
// ./kernels (WebAssembly SIMD by default). Exported to ONNX as Gemm + Relu/Tanh layers.

import type { FeatureSchema } from '../data/types';
import type { MlpParams } from '../spec/types';
import type { OnnxGraphBuilder } from '../onnx/builder';
import { mulberry32, shuffleInPlace } from '../data/prng';
import { defaultKernelKind, type KernelKind } from './kernels/gemm';
import { MlpNetwork, Optimizer } from './kernels/network';
import { argmaxRows } from '../onnx/argmax';
import { appendClassifierOutputsFromLogits, appendRegressionOutput, logitLoss, softmaxRowsInPlace } from './outputs';
import {
  assertFiniteDense,
  checkClassificationTarget,
  checkLoss,
  checkRegressionTarget,
  choiceParam,
  makeTrainedModel,
  numberParam,
  patienceParam,
  ProgressGate,
  type ModelCore,
} from './pipeline';
import { Preprocessor } from './preprocess';
import { TrainingError, type Prediction, type TrainContext, type TrainedModel, type Trainer } from './types';

/** mlp's parameters once checked: `earlyStopping` is a patience, or false. */
export type CheckedMlpParams = Omit<MlpParams, 'earlyStopping'> & { earlyStopping: number | false };

/** The defaults of mlloop.schema.json's mlpParams, for direct calls that bypass it. */
export const MLP_DEFAULTS: CheckedMlpParams = {
  hidden: [64],
  activation: 'relu',
  optimizer: 'adam',
  learningRate: 0.001,
  momentum: 0.9,
  batchSize: 200,
  epochs: 100,
  l2: 0.0001,
  dropout: 0,
  earlyStopping: 10,
  seed: 0,
};

export function readMlpParams(params: Record<string, unknown>, fallbackSeed: number): CheckedMlpParams {
  const rawHidden = params.hidden ?? MLP_DEFAULTS.hidden;
  const hiddenList = typeof rawHidden === 'number' ? [rawHidden] : rawHidden;
  if (!Array.isArray(hiddenList))
    throw new TrainingError(
      `Parameter "hidden" must be a list of layer sizes (got ${JSON.stringify(rawHidden)})`,
      'hidden',
    );
  const hidden = hiddenList.map((u) => {
    if (typeof u !== 'number' || !Number.isInteger(u) || u < 1) {
      throw new TrainingError(
        `Parameter "hidden": every layer needs a whole number of units ≥ 1 (got ${JSON.stringify(u)})`,
        'hidden',
      );
    }
    return u;
  });
  return {
    hidden,
    activation: choiceParam(params, 'activation', MLP_DEFAULTS.activation, ['relu', 'tanh'] as const),
    optimizer: choiceParam(params, 'optimizer', MLP_DEFAULTS.optimizer, ['adam', 'sgd'] as const),
    learningRate: numberParam(params, 'learningRate', MLP_DEFAULTS.learningRate, { above: 0 }),
    momentum: numberParam(params, 'momentum', MLP_DEFAULTS.momentum, { min: 0, max: 0.999999 }),
    batchSize: numberParam(params, 'batchSize', MLP_DEFAULTS.batchSize, { min: 1, integer: true }),
    epochs: numberParam(params, 'epochs', MLP_DEFAULTS.epochs, { min: 1, integer: true }),
    l2: numberParam(params, 'l2', MLP_DEFAULTS.l2, { min: 0 }),
    dropout: numberParam(params, 'dropout', MLP_DEFAULTS.dropout, { min: 0, max: 0.999999 }),
    earlyStopping: patienceParam(params, MLP_DEFAULTS.earlyStopping),
    seed: numberParam(params, 'seed', fallbackSeed, { min: 0, integer: true }),
  };
}

export interface MlpOptions {
  /** GEMM kernel; default: WebAssembly SIMD where available. */
  kernel?: KernelKind;
}

export const trainMlp: Trainer = (ctx) => trainMlpWith(ctx, {});

export function trainMlpWith(ctx: TrainContext, opts: MlpOptions): TrainedModel {
  const p = readMlpParams(ctx.params, ctx.seed);
  const { schema } = ctx;
  if (ctx.train.features.n === 0) throw new TrainingError('The train split has no rows', 'train');
  const classification = schema.task === 'classification';
  const classes = classification ? checkClassificationTarget(ctx) : 0;
  if (!classification) checkRegressionTarget(ctx);
  const gate = new ProgressGate(ctx);

  const pre = Preprocessor.fit(schema, ctx.train.features, { standardize: true, impute: true });
  const n = ctx.train.features.n;
  const X = pre.transform(ctx.train.features);
  assertFiniteDense(X, n, pre);
  const nDev = ctx.dev.features.n;
  const Xdev = nDev > 0 ? pre.transform(ctx.dev.features) : new Float32Array(0);
  const D = pre.outputDim;

  // Regression trains on the standardized target; the scaling is folded into the last layer after.
  let yMean = 0;
  let yScale = 1;
  if (!classification) {
    let s = 0;
    for (const v of ctx.train.y) s += v;
    yMean = s / n;
    let ss = 0;
    for (const v of ctx.train.y) ss += (v - yMean) ** 2;
    const sd = Math.sqrt(ss / n);
    yScale = sd > 1e-12 ? sd : 1;
  }

  const batchSize = Math.min(p.batchSize, n);
  const spec = {
    sizes: [D, ...p.hidden, classification ? classes : 1],
    activation: p.activation,
    // Prediction and the dev pass go through the network in chunks of maxRows rows.
    maxRows: Math.max(batchSize, 256),
    dropout: p.dropout,
    kernel: opts.kernel ?? defaultKernelKind(),
  };
  const net = new MlpNetwork({ ...spec, dataRows: n });
  const heap = net.heap;
  heap.set(X, net.dataOff);
  const random = mulberry32(p.seed);
  initWeights(net, random);
  const opt = new Optimizer(net, { kind: p.optimizer, learningRate: p.learningRate, momentum: p.momentum, l2: p.l2 });

  const order = net.order;
  for (let i = 0; i < n; i++) order[i] = i;
  const yClass = new Int32Array(batchSize);
  const yValue = new Float64Array(batchSize);
  const dropoutRandom = p.dropout > 0 ? random : undefined;

  const earlyStop = p.earlyStopping !== false && nDev > 0 ? p.earlyStopping : 0;
  let best: { metric: number; loss: number; epoch: number; params: Float32Array } | undefined;
  const metricName = classification ? 'accuracy' : 'rmse';

  for (let epoch = 1; epoch <= p.epochs; epoch++) {
    gate.checkCancelled();
    shuffleInPlace(order, random);
    let lossSum = 0;
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start);
      net.gatherBatch(start, rows);
      for (let r = 0; r < rows; r++) {
        const src = order[start + r];
        if (classification) yClass[r] = ctx.train.y[src];
        else yValue[r] = (ctx.train.y[src] - yMean) / yScale;
      }
      net.forward(rows, dropoutRandom);
      lossSum += classification ? net.softmaxCrossEntropy(rows, yClass) : net.squaredError(rows, yValue);
      net.backward(rows);
      opt.step(rows);
      gate.checkCancelled();
    }
    // Reported in the target's units: mean cross-entropy, or mean squared error.
    const trainLoss = classification ? lossSum / n : (2 * lossSum * yScale * yScale) / n;
    checkLoss(trainLoss, epoch);
    const dev = nDev > 0 ? evaluate(net, Xdev, nDev, ctx.dev.y, classification, yMean, yScale, gate) : undefined;
    if (dev && earlyStop > 0) {
      const better =
        !best ||
        (classification
          ? dev.metric > best.metric || (dev.metric === best.metric && dev.loss < best.loss)
          : dev.metric < best.metric);
      if (better) {
        if (best) best.params.set(net.params());
        best = { metric: dev.metric, loss: dev.loss, epoch, params: best?.params ?? net.params().slice() };
      }
    }
    const stop = best !== undefined && epoch - best.epoch >= earlyStop;
    gate.report(
      { step: epoch, totalSteps: p.epochs, trainLoss, devLoss: dev?.loss, devMetric: dev?.metric, metricName },
      stop,
    );
    if (stop) break;
  }
  // The model keeps a network without the training rows, holding the best (or last) weights.
  const final = new MlpNetwork({ ...spec, dataRows: 0 });
  final.heap.set(best ? best.params : net.params(), 0);
  if (!classification) foldTargetScaling(final, yMean, yScale);
  return makeTrainedModel('mlp', schema, pre, new MlpCore(final, classification ? classes : 0));
}

/**
 * Glorot-uniform weights and biases, U(±√(6 / (fanIn + fanOut))), for relu and tanh alike as
 * scikit-learn does (measured on digits: 1 point better dev accuracy at 50 epochs than He-uniform
 * for relu). Random rather than zero biases, as scikit-learn: mean dev accuracy on wine over 20 seeds
 * 97.6 → 99.2 (scikit-learn 98.6), diabetes RMSE 71.0 → 70.2 (scikit-learn 69.6).
 */
function initWeights(net: MlpNetwork, random: () => number): void {
  const h = net.heap;
  for (let l = 0; l < net.layers; l++) {
    const fanIn = net.sizes[l];
    const fanOut = net.sizes[l + 1];
    const bound = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < fanIn; i++)
      for (let j = 0; j < fanOut; j++) h[net.weightAt(l, i, j)] = (2 * random() - 1) * bound;
    for (let j = 0; j < fanOut; j++) h[net.bOff[l] + j] = (2 * random() - 1) * bound;
  }
}

/** After training on (y - mean) / scale, makes the last layer output y itself. */
function foldTargetScaling(net: MlpNetwork, mean: number, scale: number): void {
  const h = net.heap;
  const l = net.layers - 1;
  for (let i = 0; i < net.sizes[l]; i++) h[net.weightAt(l, i, 0)] *= scale;
  h[net.bOff[l]] = h[net.bOff[l]] * scale + mean;
}

/** Runs the network over n dense rows in chunks; calls `take(firstRow, rows)` with outputs at net.outOff. */
function forwardChunks(net: MlpNetwork, X: Float32Array, n: number, take: (first: number, rows: number) => void): void {
  const D = net.sizes[0];
  const chunk = net.spec.maxRows;
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    net.heap.set(X.subarray(start * D, (start + rows) * D), net.xOff);
    net.forward(rows);
    take(start, rows);
  }
}

/** Dev loss and metric (accuracy, or RMSE in the target's units); a large dev split is cancellable between chunks. */
function evaluate(
  net: MlpNetwork,
  X: Float32Array,
  n: number,
  y: Float64Array,
  classification: boolean,
  yMean: number,
  yScale: number,
  gate: ProgressGate,
) {
  const h = net.heap;
  const c = net.sizes[net.layers];
  const stride = net.widths[net.layers];
  let loss = 0;
  let hits = 0;
  forwardChunks(net, X, n, (first, rows) => {
    gate.checkCancelled();
    const out = net.outOff;
    for (let i = 0; i < rows; i++) {
      const target = y[first + i];
      if (classification) {
        const row = logitLoss(h, out + i * stride, c, target);
        loss += row.loss;
        if (row.hit) hits++;
      } else {
        const e = h[out + i * stride] * yScale + yMean - target;
        loss += e * e;
      }
    }
  });
  return classification ? { loss: loss / n, metric: hits / n } : { loss: loss / n, metric: Math.sqrt(loss / n) };
}

/** The trained network as a ModelCore: predictions on dense rows, and its ONNX layers. */
class MlpCore implements ModelCore {
  constructor(
    private readonly net: MlpNetwork,
    /** 0 for regression. */
    private readonly classes: number,
  ) {}

  predictDense(X: Float32Array, n: number): Prediction {
    const net = this.net;
    const width = this.classes > 0 ? this.classes : 1;
    const stride = net.widths[net.layers];
    const h = net.heap;
    const out = new Float32Array(n * width);
    forwardChunks(net, X, n, (first, rows) => {
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < width; j++) out[(first + i) * width + j] = h[net.outOff + i * stride + j];
    });
    if (this.classes === 0) return { values: out };
    softmaxRowsInPlace(out, n, this.classes);
    return { probabilities: out, classIndex: argmaxRows(out, n, this.classes) };
  }

  appendOnnx(b: OnnxGraphBuilder, dense: string, schema: FeatureSchema): void {
    const net = this.net;
    let x = dense;
    for (let l = 0; l < net.layers; l++) {
      const W = b.addInitializer(`mlp_W${l}`, net.layerWeights(l), [net.sizes[l], net.sizes[l + 1]]);
      const bias = b.addInitializer(`mlp_b${l}`, net.layerBias(l), [net.sizes[l + 1]]);
      [x] = b.addNode('Gemm', [x, W, bias]);
      if (l < net.layers - 1) [x] = b.addNode(net.spec.activation === 'relu' ? 'Relu' : 'Tanh', [x]);
    }
    if (this.classes > 0) appendClassifierOutputsFromLogits(b, x, schema.classes ?? []);
    else appendRegressionOutput(b, x);
  }
}
